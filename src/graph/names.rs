//! Well-known names: Vitrage's vertex and edge property names (vitrage-spec.md 7.1), the entity
//! categories and the standard edge labels (1.5).
//!
//! Every graph's interner is seeded with these strings in this order, so each one is a
//! compile-time [`Sym`] constant and the code that reads `vitrage_type` or `state` never
//! looks a string up.

use super::Label;
use super::intern::Sym;

/// Declares the seeded symbols: an enum gives each name its index, a constant exposes it as a
/// [`Sym`], and [`SEED`] lists the text in the same order.
macro_rules! well_known {
    ($($(#[$doc:meta])* $name:ident => $text:literal,)*) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[repr(u32)]
        enum Index { $($name,)* }

        $($(#[$doc])* pub const $name: Sym = Sym(Index::$name as u32);)*

        /// The text of every well-known symbol, in symbol order.
        pub const SEED: &[&str] = &[$($text,)*];
    };
}

well_known! {
    /// `vitrage_id`: the vertex's uuid in Vitrage's API.
    VITRAGE_ID => "vitrage_id",
    /// `vitrage_category`: `RESOURCE` or `ALARM`; read from [`super::Vertex::category`].
    VITRAGE_CATEGORY => "vitrage_category",
    /// `vitrage_type`: the datasource type; read from [`super::Vertex::vitrage_type`].
    VITRAGE_TYPE => "vitrage_type",
    /// `id`: the entity's id in its source system.
    ID => "id",
    /// `name`: display name, the alarm name for alarms.
    NAME => "name",
    /// `state`: raw datasource state of a resource, `Active`/`Inactive` for an alarm.
    STATE => "state",
    /// `vitrage_state`: the state deduced by `set_state`.
    VITRAGE_STATE => "vitrage_state",
    /// `vitrage_aggregated_state`: the winning raw state, upper-cased.
    VITRAGE_AGGREGATED_STATE => "vitrage_aggregated_state",
    /// `vitrage_operational_state`: the normalised state.
    VITRAGE_OPERATIONAL_STATE => "vitrage_operational_state",
    /// `severity`: raw alarm severity.
    SEVERITY => "severity",
    /// `vitrage_aggregated_severity`: the upper-cased severity.
    VITRAGE_AGGREGATED_SEVERITY => "vitrage_aggregated_severity",
    /// `vitrage_operational_severity`: the normalised severity.
    VITRAGE_OPERATIONAL_SEVERITY => "vitrage_operational_severity",
    /// `vitrage_is_deleted`: soft-delete flag; read from [`super::Vertex::is_deleted`].
    VITRAGE_IS_DELETED => "vitrage_is_deleted",
    /// `vitrage_is_placeholder`: the vertex is known only as a neighbour.
    VITRAGE_IS_PLACEHOLDER => "vitrage_is_placeholder",
    /// `vitrage_sample_timestamp`: time of the sample that produced the vertex.
    VITRAGE_SAMPLE_TIMESTAMP => "vitrage_sample_timestamp",
    /// `update_timestamp`: the datasource's update time.
    UPDATE_TIMESTAMP => "update_timestamp",
    /// `vitrage_resource_id`: on alarms, the vertex id of the resource they are on.
    VITRAGE_RESOURCE_ID => "vitrage_resource_id",
    /// `vitrage_resource_type`: on alarms, the type of the resource they are on.
    VITRAGE_RESOURCE_TYPE => "vitrage_resource_type",
    /// `vitrage_resource_project_id`: on alarms, the project of the resource they are on.
    VITRAGE_RESOURCE_PROJECT_ID => "vitrage_resource_project_id",
    /// `resource_id`: on alarms, the datasource-level resource id.
    RESOURCE_ID => "resource_id",
    /// `resource_name`: on alarms, the datasource-level resource name.
    RESOURCE_NAME => "resource_name",
    /// `project_id`: the tenant.
    PROJECT_ID => "project_id",
    /// `is_marked_down`: set by `mark_down` (without a `vitrage_` prefix, as in Vitrage).
    IS_MARKED_DOWN => "is_marked_down",
    /// `is_real_vitrage_id`: bookkeeping flag set by `set_state`.
    IS_REAL_VITRAGE_ID => "is_real_vitrage_id",
    /// `vitrage_cached_id`: bookkeeping.
    VITRAGE_CACHED_ID => "vitrage_cached_id",
    /// `vitrage_datasource_name`: the datasource that reported the vertex.
    VITRAGE_DATASOURCE_NAME => "vitrage_datasource_name",
    /// `rawtext`: Zabbix alarm text.
    RAWTEXT => "rawtext",
    /// `info`: free text.
    INFO => "info",
    /// `graph_index`: only in API output.
    GRAPH_INDEX => "graph_index",
    /// `resource`: only in notifications.
    RESOURCE => "resource",
    /// `relationship_type`: the edge property holding the label; read from the edge key.
    RELATIONSHIP_TYPE => "relationship_type",
    /// `RESOURCE`: the category value of resources.
    CATEGORY_RESOURCE => "RESOURCE",
    /// `ALARM`: the category value of alarms.
    CATEGORY_ALARM => "ALARM",
    /// Label `on`: alarm to the resource it is raised on.
    LABEL_ON => "on",
    /// Label `contains`: cluster, zone, host to what they contain.
    LABEL_CONTAINS => "contains",
    /// Label `causes`: causing alarm to caused alarm.
    LABEL_CAUSES => "causes",
    /// Label `attached`: volume or port to instance.
    LABEL_ATTACHED => "attached",
    /// Label `attached_public`.
    LABEL_ATTACHED_PUBLIC => "attached_public",
    /// Label `attached_private`.
    LABEL_ATTACHED_PRIVATE => "attached_private",
    /// Label `connect`.
    LABEL_CONNECT => "connect",
    /// Label `managed_by`.
    LABEL_MANAGED_BY => "managed_by",
    /// Label `comprised`: stack or kubernetes to its resources.
    LABEL_COMPRISED => "comprised",
}

/// The standard edge labels as [`Label`]s.
impl Label {
    /// `on`: alarm to the resource it is raised on.
    pub const ON: Label = Label(LABEL_ON);
    /// `contains`: cluster, zone, host to what they contain.
    pub const CONTAINS: Label = Label(LABEL_CONTAINS);
    /// `causes`: causing alarm to caused alarm.
    pub const CAUSES: Label = Label(LABEL_CAUSES);
    /// `attached`: volume or port to instance.
    pub const ATTACHED: Label = Label(LABEL_ATTACHED);
    /// `attached_public`.
    pub const ATTACHED_PUBLIC: Label = Label(LABEL_ATTACHED_PUBLIC);
    /// `attached_private`.
    pub const ATTACHED_PRIVATE: Label = Label(LABEL_ATTACHED_PRIVATE);
    /// `connect`.
    pub const CONNECT: Label = Label(LABEL_CONNECT);
    /// `managed_by`.
    pub const MANAGED_BY: Label = Label(LABEL_MANAGED_BY);
    /// `comprised`: stack or kubernetes to its resources.
    pub const COMPRISED: Label = Label(LABEL_COMPRISED);
}

#[cfg(test)]
mod tests {
    use super::super::intern::Interner;
    use super::*;

    #[test]
    fn constants_resolve_to_their_names() {
        let interner = Interner::with_seed(SEED);
        assert_eq!(interner.resolve(VITRAGE_ID), "vitrage_id");
        assert_eq!(interner.resolve(VITRAGE_IS_DELETED), "vitrage_is_deleted");
        assert_eq!(interner.resolve(RELATIONSHIP_TYPE), "relationship_type");
        assert_eq!(interner.resolve(CATEGORY_ALARM), "ALARM");
        assert_eq!(interner.resolve(Label::COMPRISED.sym()), "comprised");
        for (index, text) in SEED.iter().enumerate() {
            assert_eq!(interner.get(text), Some(Sym(index as u32)));
        }
    }
}
