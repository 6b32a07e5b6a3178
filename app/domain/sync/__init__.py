"""The sync feed for provincial systems: ordered changes with a cursor, snapshots, retention."""
