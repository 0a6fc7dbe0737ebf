-- Cohort consent store on D1: the tables and columns of `cohort consent-server`'s SQLite store.
CREATE TABLE IF NOT EXISTS consent (
    receipt         TEXT PRIMARY KEY NOT NULL,
    policy_version  TEXT NOT NULL,
    personalization INTEGER NOT NULL CHECK (personalization IN (0, 1)),
    analytics       INTEGER NOT NULL CHECK (analytics IN (0, 1)),
    ui              TEXT NOT NULL,
    recorded        TEXT NOT NULL,
    expires         TEXT NOT NULL,
    functional      INTEGER NOT NULL DEFAULT 0 CHECK (functional IN (0, 1)),
    marketing       INTEGER NOT NULL DEFAULT 0 CHECK (marketing IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS consent_expires ON consent (expires);
CREATE TABLE IF NOT EXISTS csp_violation (
    day       TEXT NOT NULL,
    directive TEXT NOT NULL,
    blocked   TEXT NOT NULL,
    count     INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (day, directive, blocked)
) WITHOUT ROWID;
-- The global rate limit: writes per UTC minute, keyed by nothing about who wrote.
CREATE TABLE IF NOT EXISTS rate_window (
    minute INTEGER PRIMARY KEY NOT NULL,
    count  INTEGER NOT NULL
);
