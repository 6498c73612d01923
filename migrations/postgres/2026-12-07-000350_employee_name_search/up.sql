-- Admins search the roster by the first letters of a name, in any case and without accents.
-- The index holds the folded name, exactly the expression src/db/admin_lists.rs queries (built
-- there from the same table of letters), so a prefix search is a range scan of this index.
CREATE INDEX employees_folded_name ON employees ((translate(full_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZàáâäèéêëìíîïòóôöùúûüñçÀÁÂÄÈÉÊËÌÍÎÏÒÓÔÖÙÚÛÜÑÇ', 'abcdefghijklmnopqrstuvwxyzaaaaeeeeiiiioooouuuuncaaaaeeeeiiiioooouuuunc') COLLATE "C"));
