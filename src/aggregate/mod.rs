//! Anonymized aggregates from order exports (SPEC section 8).
