-- Coverage counters, kept in the same transaction as every roster change and signature so that a
-- drill-down reads a few rows instead of scanning the roster. `area_code` is '' for the nation,
-- then the province, regency, district and village of the employee's work village.
CREATE TABLE roster_counts (
    area_code TEXT NOT NULL,
    parent_code TEXT NOT NULL,
    agency TEXT NOT NULL,
    employee_type TEXT NOT NULL,
    employees BIGINT NOT NULL,
    PRIMARY KEY (area_code, agency, employee_type)
);
CREATE INDEX roster_counts_parent ON roster_counts (parent_code, area_code, employees);

CREATE TABLE signed_counts (
    campaign_id TEXT NOT NULL,
    area_code TEXT NOT NULL,
    parent_code TEXT NOT NULL,
    agency TEXT NOT NULL,
    employee_type TEXT NOT NULL,
    signed BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, area_code, agency, employee_type)
);
CREATE INDEX signed_counts_parent ON signed_counts (campaign_id, parent_code, area_code, signed);

-- Signatures per day (UTC+8 calendar day number) and area, for the daily line chart.
CREATE TABLE daily_signings (
    campaign_id TEXT NOT NULL,
    area_code TEXT NOT NULL,
    day BIGINT NOT NULL,
    signings BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, area_code, day)
);
