import EventStore

/// The log's time zone under the name some files of this module still give it
/// (`Checkpoint.swift`): `TimeZone` is `EventStore.ZoneRules` here, not Foundation's
/// type, which needs ICU. Internal, so that no client sees a second `TimeZone`.
typealias TimeZone = ZoneRules
