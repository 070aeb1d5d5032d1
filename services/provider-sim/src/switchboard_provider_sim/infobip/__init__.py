"""The Infobip voice-message simulator (``infobip.md``), written from the spec."""
