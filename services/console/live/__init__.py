"""The live board: read from the role services' Redis keys and the console's feeds,
assembled per shop, pushed to open pages over server-sent events."""
