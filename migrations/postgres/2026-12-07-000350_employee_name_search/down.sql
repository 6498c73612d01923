DROP INDEX employees_folded_name;
