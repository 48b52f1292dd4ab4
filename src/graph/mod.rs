//! The entity graph: resources and alarms as vertices, labelled directed edges.
