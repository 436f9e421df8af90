// Names of instances, checks, groups: the rule the schema applies (propertyNames) and the
// keepalived importer reuses. No TypeBox here, so the daemon's start-up path need not load it.
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const NAME_VALID = '1-64 characters: letters, digits, "_", "." or "-", starting with a letter or digit';
