DROP TABLE integrity_spread;
