"""The warehouse: its schema and migrations, the one way to open it and to replace a slice, its
lock (one writer at a time), and its backup."""
