DROP TABLE delivery_year_totals;
