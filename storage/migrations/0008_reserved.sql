-- Placeholder for the roster's migration 0008 (numbers are assigned per branch and must have no
-- gap). Delete this file when the roster's 0008 lands. It creates a table so that running it
-- twice fails, as every migration must (storage/db.py tells a lost race by that).
CREATE TABLE reserved_0008 (unused INTEGER);
