// @generated automatically by Diesel CLI.

diesel::table! {
    answers (response_id, item_code) {
        response_id -> Int8,
        item_code -> Text,
        level -> Nullable<Int2>,
        choices -> Nullable<Array<Nullable<Int2>>>,
        text -> Nullable<Text>,
        answered_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Int8,
        unit_code -> Text,
        name -> Text,
        key_hash -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamptz,
        actor -> Text,
        action -> Text,
        subject -> Text,
        details -> Jsonb,
    }
}

diesel::table! {
    case_facts (invitation_id) {
        invitation_id -> Int8,
        received_at -> Nullable<Timestamptz>,
        due_at -> Nullable<Timestamptz>,
        extended_due_at -> Nullable<Timestamptz>,
        apology_letter -> Bool,
        returned_at -> Nullable<Timestamptz>,
        steps -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    case_links (invitation_id) {
        invitation_id -> Int8,
        unit_code -> Text,
        case_number -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    cases_daily (officer_code, day) {
        officer_code -> Text,
        day -> Date,
        unit_code -> Text,
        cases -> Int4,
        updated_at -> Timestamptz,
        updated_by -> Text,
    }
}

diesel::table! {
    desk_keys (id) {
        id -> Int8,
        unit_code -> Text,
        name -> Text,
        public_key -> Bytea,
        approved_by -> Text,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    export_keys (key_id) {
        key_id -> Text,
        unit_code -> Text,
        public_key -> Bytea,
        sealed_private -> Bytea,
        created_at -> Timestamptz,
        created_by -> Text,
        retired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    fields (code) {
        code -> Text,
        name -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    followups (id) {
        id -> Int8,
        response_id -> Int8,
        unit_code -> Text,
        officer_code -> Text,
        triggers -> Array<Nullable<Text>>,
        owner -> Text,
        status -> Text,
        opened_at -> Timestamptz,
        deadline -> Date,
        reply -> Nullable<Text>,
        replied_at -> Nullable<Timestamptz>,
        replied_by -> Nullable<Text>,
        outcome -> Nullable<Text>,
        outcome_note -> Text,
        closed_at -> Nullable<Timestamptz>,
        closed_by -> Nullable<Text>,
    }
}

diesel::table! {
    instrument_translations (instrument_id, version, lang) {
        instrument_id -> Text,
        version -> Text,
        lang -> Text,
        sha256 -> Text,
        name -> Text,
        loaded_at -> Timestamptz,
    }
}

diesel::table! {
    instrument_versions (instrument_id, version) {
        instrument_id -> Text,
        version -> Text,
        sha256 -> Text,
        has_unverified_items -> Bool,
        first_loaded_at -> Timestamptz,
    }
}

diesel::table! {
    integrity_flags (response_id, reason) {
        response_id -> Int8,
        reason -> Text,
        flagged_at -> Timestamptz,
    }
}

diesel::table! {
    integrity_spread (id) {
        id -> Int8,
        reason -> Text,
        response_ids -> Array<Nullable<Int8>>,
        flagged_at -> Timestamptz,
    }
}

diesel::table! {
    integrity_reviews (response_id) {
        response_id -> Int8,
        verdict -> Text,
        note -> Text,
        reviewed_by -> Text,
        reviewed_at -> Timestamptz,
    }
}

diesel::table! {
    invitations (id) {
        id -> Int8,
        token -> Nullable<Text>,
        code -> Nullable<Text>,
        unit_code -> Text,
        officer_code -> Text,
        procedure_code -> Text,
        channel -> Text,
        instrument_id -> Text,
        instrument_version -> Text,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        issued_by -> Text,
        lang -> Nullable<Text>,
        fact_timing -> Nullable<Int2>,
        fact_i2_points -> Nullable<Int2>,
        preprinted -> Bool,
        desk_key_id -> Nullable<Int8>,
        offline_nonce -> Nullable<Bytea>,
        offline_record_at -> Nullable<Timestamptz>,
        token_hash -> Nullable<Text>,
        code_hash -> Nullable<Text>,
        sealed -> Nullable<Bytea>,
    }
}

diesel::table! {
    login_throttle (client_hash) {
        client_hash -> Text,
        failures -> Int4,
        window_started_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    officers (code) {
        code -> Text,
        name -> Text,
        unit_code -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    procedures (code) {
        code -> Text,
        name -> Text,
        field_code -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    province_exports (period, unit_code) {
        unit_code -> Text,
        period -> Text,
        export_id -> Uuid,
        unit_name -> Text,
        province_code -> Text,
        generated_at -> Timestamptz,
        sha256 -> Text,
        responses -> Int8,
        invitations -> Int8,
        response_rate -> Nullable<Float8>,
        overall_rate -> Nullable<Float8>,
        sipas_index -> Nullable<Float8>,
        sipas_low -> Nullable<Float8>,
        sipas_high -> Nullable<Float8>,
        content -> Jsonb,
        imported_at -> Timestamptz,
        imported_by -> Text,
        key_id -> Nullable<Text>,
    }
}

diesel::table! {
    province_keys (key_id) {
        key_id -> Text,
        unit_code -> Text,
        public_key -> Bytea,
        registered_at -> Timestamptz,
        registered_by -> Text,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::table! {
    rate_limits (bucket, client_hash, window_start) {
        bucket -> Text,
        client_hash -> Text,
        window_start -> Timestamptz,
        hits -> Int4,
    }
}

diesel::table! {
    responses (id) {
        id -> Int8,
        invitation_id -> Int8,
        instrument_id -> Text,
        instrument_version -> Text,
        unit_code -> Text,
        officer_code -> Text,
        procedure_code -> Text,
        channel -> Text,
        submitted_at -> Timestamptz,
        last_added_at -> Timestamptz,
        client_hash -> Nullable<Text>,
        device_hash -> Nullable<Text>,
        tt01_i7_unfounded -> Bool,
        held -> Bool,
        top_score -> Bool,
        completed_burst -> Bool,
    }
}

diesel::table! {
    rollup_day (unit_code, grouping_set, day, officer_code, procedure_code, channel, held, item_code, level) {
        grouping_set -> Int2,
        day -> Date,
        unit_code -> Text,
        officer_code -> Text,
        procedure_code -> Text,
        channel -> Text,
        held -> Bool,
        item_code -> Text,
        level -> Int2,
        n -> Int4,
        scored -> Int4,
        points -> Int4,
    }
}

diesel::table! {
    rollup_deltas (id) {
        id -> Int8,
        day -> Date,
        unit_code -> Text,
        officer_code -> Text,
        procedure_code -> Text,
        channel -> Text,
        held -> Bool,
        item_code -> Text,
        level -> Int2,
        n -> Int4,
        scored -> Int4,
        points -> Int4,
    }
}

diesel::table! {
    rollup_month (unit_code, grouping_set, month, officer_code, procedure_code, channel, held, item_code, level) {
        grouping_set -> Int2,
        month -> Date,
        unit_code -> Text,
        officer_code -> Text,
        procedure_code -> Text,
        channel -> Text,
        held -> Bool,
        item_code -> Text,
        level -> Int2,
        n -> Int4,
        scored -> Int4,
        points -> Int4,
    }
}

diesel::table! {
    service_settings (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    submission_limits (client_hash, window_start) {
        client_hash -> Text,
        window_start -> Timestamptz,
        count -> Int4,
    }
}

diesel::table! {
    survey_views (invitation_id) {
        invitation_id -> Int8,
        first_shown_at -> Timestamptz,
    }
}

diesel::table! {
    unit_indicator_scores (id) {
        id -> Int8,
        unit_code -> Text,
        indicator -> Int2,
        period -> Text,
        points -> Int2,
        note -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamptz,
        superseded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    unit_instruments (unit_code) {
        unit_code -> Text,
        instrument_id -> Text,
        instrument_version -> Text,
        chosen_by -> Text,
        chosen_at -> Timestamptz,
    }
}

diesel::table! {
    units (code) {
        code -> Text,
        name -> Text,
        province_code -> Text,
        public_page -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        unit_code -> Nullable<Text>,
        officer_code -> Nullable<Text>,
        active -> Bool,
        failed_logins -> Int4,
        locked_until -> Nullable<Timestamptz>,
        session_epoch -> Int4,
        last_login_at -> Nullable<Timestamptz>,
        password_changed_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(answers -> responses (response_id));
diesel::joinable!(api_keys -> units (unit_code));
diesel::joinable!(case_facts -> invitations (invitation_id));
diesel::joinable!(case_links -> invitations (invitation_id));
diesel::joinable!(case_links -> units (unit_code));
diesel::joinable!(cases_daily -> officers (officer_code));
diesel::joinable!(cases_daily -> units (unit_code));
diesel::joinable!(desk_keys -> units (unit_code));
diesel::joinable!(followups -> officers (officer_code));
diesel::joinable!(followups -> responses (response_id));
diesel::joinable!(followups -> units (unit_code));
diesel::joinable!(integrity_flags -> responses (response_id));
diesel::joinable!(integrity_reviews -> responses (response_id));
diesel::joinable!(invitations -> desk_keys (desk_key_id));
diesel::joinable!(invitations -> officers (officer_code));
diesel::joinable!(invitations -> procedures (procedure_code));
diesel::joinable!(invitations -> units (unit_code));
diesel::joinable!(officers -> units (unit_code));
diesel::joinable!(procedures -> fields (field_code));
diesel::joinable!(responses -> invitations (invitation_id));
diesel::joinable!(responses -> officers (officer_code));
diesel::joinable!(responses -> procedures (procedure_code));
diesel::joinable!(responses -> units (unit_code));
diesel::joinable!(survey_views -> invitations (invitation_id));
diesel::joinable!(unit_indicator_scores -> units (unit_code));
diesel::joinable!(unit_instruments -> units (unit_code));
diesel::joinable!(users -> officers (officer_code));
diesel::joinable!(users -> units (unit_code));

diesel::allow_tables_to_appear_in_same_query!(
    answers,
    api_keys,
    audit_log,
    case_facts,
    case_links,
    cases_daily,
    desk_keys,
    export_keys,
    fields,
    followups,
    instrument_translations,
    instrument_versions,
    integrity_flags,
    integrity_reviews,
    integrity_spread,
    invitations,
    login_throttle,
    officers,
    procedures,
    province_exports,
    province_keys,
    rate_limits,
    responses,
    rollup_day,
    rollup_deltas,
    rollup_month,
    service_settings,
    submission_limits,
    survey_views,
    unit_indicator_scores,
    unit_instruments,
    units,
    users,
);
