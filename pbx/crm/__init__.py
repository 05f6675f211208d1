"""CRM connectors: one module per provider behind pbx/crm/base.py's Connector."""
