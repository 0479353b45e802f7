DROP TABLE province_exports;
