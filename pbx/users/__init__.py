"""People who sign in to the panel: users with roles, argon2id passwords, server-side sessions."""
