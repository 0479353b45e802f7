ALTER TABLE province_exports DROP COLUMN key_id;
DROP TABLE province_keys;
DROP TABLE export_keys;
