"""The bureau's mailbox as the inbox (docs/design.md §8): configuration, fetching attachments
over IMAP into the inbox, receipts, each township's mail over SMTP, watch, 催报 and the Monday
in one command. The store keeps what was fetched and sent (roster/mailbox.py)."""
