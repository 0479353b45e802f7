DROP TABLE survey_views;
