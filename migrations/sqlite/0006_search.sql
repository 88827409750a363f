-- Full-text search of the catalog: an FTS5 index over each app's name and descriptions
-- (Porter stemming), kept in step with the apps table by triggers.

CREATE VIRTUAL TABLE apps_fts USING fts5(
    app_id UNINDEXED, name, description, long_description,
    tokenize = 'porter unicode61'
);
INSERT INTO apps_fts (app_id, name, description, long_description)
    SELECT id, name, description, long_description FROM apps;

CREATE TRIGGER apps_fts_insert AFTER INSERT ON apps BEGIN
    INSERT INTO apps_fts (app_id, name, description, long_description)
        VALUES (NEW.id, NEW.name, NEW.description, NEW.long_description);
END;
CREATE TRIGGER apps_fts_update AFTER UPDATE OF name, description, long_description ON apps BEGIN
    UPDATE apps_fts SET name = NEW.name, description = NEW.description, long_description = NEW.long_description
        WHERE app_id = NEW.id;
END;
CREATE TRIGGER apps_fts_delete AFTER DELETE ON apps BEGIN
    DELETE FROM apps_fts WHERE app_id = OLD.id;
END;
