DROP TABLE unit_indicator_scores;
