"""The supervisor console (客服主管): live queues and agents, escalations handled in one
click, unified reply scripts, and charts from the analytics API."""
