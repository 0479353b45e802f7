-- Province mode: communes' exports imported by the province (sipas province import, or
-- POST /api/v1/province/exports). One row per commune and period: a newer export of the same
-- commune and period replaces the older one. The summary columns are what the ranking reads;
-- `content` keeps the whole verified content (every count per level), so any other formula can
-- be recomputed. Communes need not exist in `units`: the province's instance may hold none.
CREATE TABLE province_exports (
    unit_code text NOT NULL CHECK (unit_code ~ '^[A-Za-z0-9._-]{1,32}$'),
    period text NOT NULL CHECK (period ~ '^[0-9]{4}(-(Q[1-4]|H[12]))?$'),
    export_id uuid NOT NULL UNIQUE,
    unit_name text NOT NULL,
    province_code text NOT NULL,
    generated_at timestamptz NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    responses bigint NOT NULL,
    invitations bigint NOT NULL,
    response_rate double precision,
    overall_rate double precision,
    sipas_index double precision,
    -- the 95% interval of the SIPAS index computed at import from the criteria counts
    sipas_low double precision,
    sipas_high double precision,
    content jsonb NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    imported_by text NOT NULL,
    PRIMARY KEY (period, unit_code)
);
