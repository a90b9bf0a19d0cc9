"""The console's HTTP side: pages, the live stream, the JSON API and the actions."""
