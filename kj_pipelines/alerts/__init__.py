"""Warnings: which a month raises (behind plan, missing, held, projected miss), due-date reminders,
storing each once and delivering a digest per unit."""
