"""Names the app and the kernel hosts agree on."""

KERNEL_NAME = "skillforge"
WORKSHOP_ENV = "KERNEL_SKILLFORGE_WORKSHOP"  # the workshop whose data files the kernel gets
