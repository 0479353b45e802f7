-- Statistics roll-ups: counts maintained as answers and invitations arrive, so that a statistics
-- query reads counts, not raw answers. The raw answers and invitations stay the source of truth;
-- `sipas rollup rebuild` recomputes every table below from them.
--
-- One row counts one "measure" in one cell. A cell is (local day, unit, officer, procedure,
-- channel, held). The measure is `item_code` + `level`:
--   '@response'     level 0   responses submitted that day
--   '@invitation'   level 0   invitations issued that day (held is always false)
--   '@element.E1'   level 0   responses that answered at least one statement of element E1
--   <item code>     <level>   answers at that level (scale, choice) or choices of that option (multi)
--   <multi item>    level -1  responses that answered the multi item
-- `scored` and `points` carry the TT01 indicators: cases counted in the indicator and the points
-- they earned (0 for every other item).

-- Writers only ever INSERT here (one multi-row statement per write): an append-only log of
-- differences, so concurrent answers never wait on one another's counter rows. The compactor
-- folds it into rollup_day and rollup_month and deletes what it folded.
CREATE TABLE rollup_deltas (
    id bigserial PRIMARY KEY,
    day date NOT NULL,
    unit_code text NOT NULL,
    officer_code text NOT NULL,
    procedure_code text NOT NULL,
    channel text NOT NULL,
    held boolean NOT NULL,
    item_code text NOT NULL,
    level smallint NOT NULL,
    n integer NOT NULL,
    scored integer NOT NULL,
    points integer NOT NULL
);

-- Compacted counts per local day. Only the compactor and the rebuild write here. Every query of
-- the API names one unit, so the key starts with it; the counts ride in the key (INCLUDE) so that
-- a query is an index-only scan of its unit and dates.
CREATE TABLE rollup_day (
    day date NOT NULL,
    unit_code text NOT NULL,
    officer_code text NOT NULL,
    procedure_code text NOT NULL,
    channel text NOT NULL,
    held boolean NOT NULL,
    item_code text NOT NULL,
    level smallint NOT NULL,
    n integer NOT NULL,
    scored integer NOT NULL,
    points integer NOT NULL,
    PRIMARY KEY (unit_code, day, officer_code, procedure_code, channel, held, item_code, level)
        INCLUDE (n, scored, points)
);

-- The same counts per local month (`month` is the month's first day): a year reads 12 months of
-- these instead of 365 days.
CREATE TABLE rollup_month (
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    unit_code text NOT NULL,
    officer_code text NOT NULL,
    procedure_code text NOT NULL,
    channel text NOT NULL,
    held boolean NOT NULL,
    item_code text NOT NULL,
    level smallint NOT NULL,
    n integer NOT NULL,
    scored integer NOT NULL,
    points integer NOT NULL,
    PRIMARY KEY (unit_code, month, officer_code, procedure_code, channel, held, item_code, level)
        INCLUDE (n, scored, points)
);

-- Set by the follow-up of a TT01.I7 complaint that was found unfounded: the case is then left out
-- of that indicator (TT 01/2018 Điều 13 khoản 7). Change it only through
-- stats::rollup::set_i7_unfounded, which moves the roll-ups with it.
ALTER TABLE responses ADD COLUMN tt01_i7_unfounded boolean NOT NULL DEFAULT false;
-- Held out of the statistics (flagged by the integrity checks and not reviewed genuine). Change it
-- only through stats::rollup::set_held, which moves the roll-ups with it.
ALTER TABLE responses ADD COLUMN held boolean NOT NULL DEFAULT false;
