//! Turning what inventories and monitors report into runner [`Change`](crate::runner::Change)s.
//!
//! Today: topology files given to `causeway serve --topology` (Vitrage's static datasource
//! YAML, and the scenario format's resources, edges and alarms). Alertmanager, Zabbix and
//! OpenStack notifications are later work (see the README).

pub mod topology_file;
