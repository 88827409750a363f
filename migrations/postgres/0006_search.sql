-- Full-text search of the catalog: English text search over each app's name and descriptions.
CREATE INDEX apps_search ON apps
    USING GIN (to_tsvector('english', name || ' ' || description || ' ' || long_description));
