//! The consent endpoint (SPEC section 7).
