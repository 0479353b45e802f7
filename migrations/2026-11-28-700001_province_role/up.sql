-- Province staff (role `province`): import communes' exports and read the ranking. They belong
-- to no unit and have no officer code (see src/staff/model.rs).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'leader', 'officer', 'province'));
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_unit_check CHECK (
    CASE role
        WHEN 'admin' THEN true
        WHEN 'province' THEN unit_code IS NULL
        ELSE unit_code IS NOT NULL
    END
);
