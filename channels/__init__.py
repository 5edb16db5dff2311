"""Channels send messages to providers; they never touch the database or the queue."""
