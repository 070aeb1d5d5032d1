"""Africa's Talking gateway simulator (``africastalking.md``)."""
