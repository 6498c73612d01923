// One schema for both backends; the migrations under migrations/{sqlite,postgres} create it.

diesel::table! {
    areas (code) {
        code -> Text,
        parent_code -> Nullable<Text>,
        level -> Integer,
        name -> Text,
    }
}

diesel::table! {
    employees (id) {
        id -> BigInt,
        nip -> Nullable<Text>,
        nik -> Text,
        full_name -> Text,
        position -> Text,
        agency -> Text,
        unit -> Text,
        employee_type -> Text,
        village_code -> Text,
        email -> Nullable<Text>,
        active -> Bool,
        updated_at -> BigInt,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        title -> Text,
        scope_code -> Text,
        opens_at -> BigInt,
        closes_at -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    documents (campaign_id, version) {
        campaign_id -> Text,
        version -> Integer,
        sha256 -> Text,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    issuer_keys (key_id) {
        key_id -> Text,
        algorithm -> Text,
        public_key -> Binary,
        valid_from -> BigInt,
        valid_until -> Nullable<BigInt>,
        retired_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        roles -> Text,
    }
}

diesel::table! {
    certificates (id) {
        id -> Text,
        serial -> BigInt,
        campaign_id -> Text,
        employee_id -> BigInt,
        document_sha256 -> Text,
        signed_at -> BigInt,
        signer_name -> Text,
        signer_nip -> Nullable<Text>,
        signer_nik -> Text,
        position -> Text,
        agency -> Text,
        unit -> Text,
        employee_type -> Text,
        village_code -> Text,
        key_id -> Text,
        record_salt -> Binary,
        claim -> Binary,
        signature -> Binary,
        revoked_at -> Nullable<BigInt>,
        revocation_reason -> Nullable<Text>,
        log_index -> Nullable<BigInt>,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    login_codes (id) {
        id -> Text,
        subject -> Text,
        code_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        attempts -> Integer,
        used -> Bool,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        subject -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::joinable!(employees -> areas (village_code));
diesel::joinable!(certificates -> employees (employee_id));
diesel::joinable!(certificates -> campaigns (campaign_id));
diesel::joinable!(documents -> campaigns (campaign_id));
diesel::joinable!(certificates -> issuer_keys (key_id));

diesel::allow_tables_to_appear_in_same_query!(
    areas,
    employees,
    campaigns,
    documents,
    issuer_keys,
    certificates,
    counters,
    login_codes,
    sessions,
    log_entries
);

diesel::table! {
    roster_counts (area_code, agency, employee_type) {
        area_code -> Text,
        parent_code -> Text,
        agency -> Text,
        employee_type -> Text,
        employees -> BigInt,
    }
}

diesel::table! {
    signed_counts (campaign_id, area_code, agency, employee_type) {
        campaign_id -> Text,
        area_code -> Text,
        parent_code -> Text,
        agency -> Text,
        employee_type -> Text,
        signed -> BigInt,
    }
}

diesel::table! {
    daily_signings (campaign_id, area_code, day) {
        campaign_id -> Text,
        area_code -> Text,
        day -> BigInt,
        signings -> BigInt,
    }
}

diesel::table! {
    admins (id) {
        id -> Text,
        email -> Text,
        full_name -> Text,
        role -> Text,
        scope_code -> Text,
        agency -> Text,
        totp_secret -> Nullable<Binary>,
        totp_last_step -> Nullable<BigInt>,
        invited_by -> Nullable<Text>,
        created_at -> BigInt,
        active -> Bool,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> BigInt,
        actor -> Text,
        action -> Text,
        target -> Text,
        scope_code -> Text,
        agency -> Text,
        client_addr -> Text,
        detail -> Text,
        prev_hash -> Text,
        entry_hash -> Text,
    }
}

diesel::table! {
    log_entries (idx) {
        idx -> BigInt,
        kind -> Text,
        certificate_id -> Text,
        entry -> Binary,
        appended_at -> BigInt,
    }
}

diesel::table! {
    log_nodes (level, idx) {
        level -> Integer,
        idx -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    log_blocks (block) {
        block -> BigInt,
        leaves -> Binary,
    }
}

diesel::table! {
    log_checkpoints (tree_size) {
        tree_size -> BigInt,
        root -> Binary,
        key_id -> Text,
        created_at -> BigInt,
        note -> Text,
    }
}

diesel::table! {
    certificate_mail (id) {
        id -> Text,
        certificate_id -> Text,
        kind -> Text,
        created_at -> BigInt,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        sent_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    campaign_authorities (campaign_id, version) {
        campaign_id -> Text,
        version -> Integer,
        name -> Text,
        office -> Text,
        address -> Text,
        place -> Text,
        logo_png -> Nullable<Binary>,
        effective_at -> BigInt,
    }
}

diesel::table! {
    seal_certificates (fingerprint) {
        fingerprint -> Text,
        subject -> Text,
        certificate -> Binary,
        registered_at -> BigInt,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        token_hash -> Text,
        employee_id -> BigInt,
        campaign_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        printed_by -> Text,
        used_at -> Nullable<BigInt>,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    roster_imports (id) {
        id -> Text,
        file_sha256 -> Text,
        actor -> Text,
        client_addr -> Text,
        role -> Text,
        scope_code -> Text,
        agency -> Text,
        rows_total -> BigInt,
        rows_done -> BigInt,
        inserted -> BigInt,
        updated -> BigInt,
        state -> Text,
        started_at -> BigInt,
        progressed_at -> BigInt,
        finished_at -> Nullable<BigInt>,
        note -> Text,
    }
}

diesel::table! {
    sign_in_requests (id) {
        id -> Text,
        id_hash -> Text,
        client_addr -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    sign_in_jobs (id) {
        id -> Text,
        kind -> Text,
        login -> Text,
        client_addr -> Text,
        created_at -> BigInt,
        taken_until -> BigInt,
    }
}

diesel::table! {
    sso_attempts (state_hash) {
        state_hash -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        role -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used -> Bool,
    }
}
