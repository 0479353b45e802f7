DROP TABLE unit_instruments;
