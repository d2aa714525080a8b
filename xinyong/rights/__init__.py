"""Rights of the subjects (主体权益): what objections, repair, commitments and self-declaration share — subject
accounts with identity verification, working-day deadlines, attachments, the step log, the notification outbox and
the notice of a dishonesty record (失信告知)."""
