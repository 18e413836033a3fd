-- The agent's settings that outlive a run: the network type set by hand, the cellular
-- data budget and what was spent of it, the server and device it talks to.
CREATE TABLE settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
