"""What a run writes into outbox/<date>/, from the store and the checked files, never into
the store: the ledger, visit gaps, 超期催办, the summary page, the 退回意见 workbooks, the
blank template; build wires them."""
