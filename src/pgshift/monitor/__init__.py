"""Watch and rescue: what is migrating now, who blocks whom, progress, cancel and kill."""
