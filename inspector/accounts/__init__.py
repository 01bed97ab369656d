"""People who sign in: users with their roles and scope, and their sessions per device."""
