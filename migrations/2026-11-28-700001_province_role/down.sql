DELETE FROM users WHERE role = 'province';
ALTER TABLE users DROP CONSTRAINT users_unit_check;
ALTER TABLE users ADD CONSTRAINT users_check CHECK (role = 'admin' OR unit_code IS NOT NULL);
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'leader', 'officer'));
