-- index ix_cargohold_blob_refs_blob_hash
CREATE INDEX ix_cargohold_blob_refs_blob_hash ON cargohold_blob_refs (blob_hash);
-- index ix_catalog_artifact_metadata_key_value
CREATE INDEX ix_catalog_artifact_metadata_key_value ON catalog_artifact_metadata ("key", value);
-- index ix_catalog_artifact_partitions_range
CREATE INDEX ix_catalog_artifact_partitions_range ON catalog_artifact_partitions (dataset_id, "key", value, created_at, artifact_id);
-- index ix_catalog_artifacts_created_at_id
CREATE INDEX ix_catalog_artifacts_created_at_id ON catalog_artifacts (created_at, id);
-- index ix_catalog_artifacts_dataset_id_created_at_id
CREATE INDEX ix_catalog_artifacts_dataset_id_created_at_id ON catalog_artifacts (dataset_id, created_at, id);
-- index ix_catalog_artifacts_dataset_id_version_id
CREATE INDEX ix_catalog_artifacts_dataset_id_version_id ON catalog_artifacts (dataset_id, version, id);
-- index ix_catalog_artifacts_source_job_source_task
CREATE INDEX ix_catalog_artifacts_source_job_source_task ON catalog_artifacts (source_job, source_task);
-- index ix_catalog_artifacts_source_run_id
CREATE INDEX ix_catalog_artifacts_source_run_id ON catalog_artifacts (source_run_id);
-- index ix_catalog_dataset_metadata_key_value
CREATE INDEX ix_catalog_dataset_metadata_key_value ON catalog_dataset_metadata ("key", value);
-- index ix_catalog_reads_artifact_id
CREATE INDEX ix_catalog_reads_artifact_id ON catalog_reads (artifact_id);
-- index ix_catalog_reads_run_id
CREATE INDEX ix_catalog_reads_run_id ON catalog_reads (run_id);
-- index ix_catalog_tags_artifact_id
CREATE INDEX ix_catalog_tags_artifact_id ON catalog_tags (artifact_id);
-- table cargohold_blob_refs
CREATE TABLE cargohold_blob_refs (
	owner_kind VARCHAR(32) NOT NULL, 
	owner_id VARCHAR(255) NOT NULL, 
	blob_hash VARCHAR(128) NOT NULL, 
	uri TEXT NOT NULL, 
	size BIGINT NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_cargohold_blob_refs PRIMARY KEY (owner_kind, owner_id, blob_hash)
);
-- table cargohold_catalog_version
CREATE TABLE cargohold_catalog_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT cargohold_catalog_version_pkc PRIMARY KEY (version_num)
);
-- table catalog_artifact_data
CREATE TABLE catalog_artifact_data (
	artifact_id VARCHAR(36) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	literal_json TEXT NOT NULL, 
	CONSTRAINT pk_catalog_artifact_data PRIMARY KEY (artifact_id, name), 
	CONSTRAINT fk_catalog_artifact_data_artifact_id_catalog_artifacts FOREIGN KEY(artifact_id) REFERENCES catalog_artifacts (id)
);
-- table catalog_artifact_metadata
CREATE TABLE catalog_artifact_metadata (
	artifact_id VARCHAR(36) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	value TEXT NOT NULL, 
	CONSTRAINT pk_catalog_artifact_metadata PRIMARY KEY (artifact_id, "key"), 
	CONSTRAINT fk_catalog_artifact_metadata_artifact_id_catalog_artifacts FOREIGN KEY(artifact_id) REFERENCES catalog_artifacts (id)
);
-- table catalog_artifact_partitions
CREATE TABLE catalog_artifact_partitions (
	artifact_id VARCHAR(36) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	dataset_id VARCHAR(36) NOT NULL, 
	value VARCHAR(255) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_catalog_artifact_partitions PRIMARY KEY (artifact_id, "key"), 
	CONSTRAINT fk_catalog_artifact_partitions_artifact_id_catalog_artifacts FOREIGN KEY(artifact_id) REFERENCES catalog_artifacts (id)
);
-- table catalog_artifacts
CREATE TABLE catalog_artifacts (
	id VARCHAR(36) NOT NULL, 
	dataset_id VARCHAR(36) NOT NULL, 
	partition_key TEXT NOT NULL, 
	partitions_json TEXT NOT NULL, 
	version INTEGER NOT NULL, 
	metadata_json TEXT NOT NULL, 
	source_orchestrator VARCHAR(255), 
	source_namespace VARCHAR(255), 
	source_job VARCHAR(255), 
	source_run_id VARCHAR(255), 
	source_task VARCHAR(255), 
	source_map_index INTEGER, 
	source_try_number INTEGER, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_catalog_artifacts PRIMARY KEY (id), 
	CONSTRAINT fk_catalog_artifacts_dataset_id_catalog_datasets FOREIGN KEY(dataset_id) REFERENCES catalog_datasets (id), 
	CONSTRAINT uq_catalog_artifacts_dataset_id_partition_key_version UNIQUE (dataset_id, partition_key, version)
);
-- table catalog_dataset_metadata
CREATE TABLE catalog_dataset_metadata (
	dataset_id VARCHAR(36) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	value TEXT NOT NULL, 
	CONSTRAINT pk_catalog_dataset_metadata PRIMARY KEY (dataset_id, "key"), 
	CONSTRAINT fk_catalog_dataset_metadata_dataset_id_catalog_datasets FOREIGN KEY(dataset_id) REFERENCES catalog_datasets (id)
);
-- table catalog_datasets
CREATE TABLE catalog_datasets (
	id VARCHAR(36) NOT NULL, 
	project VARCHAR(255) NOT NULL, 
	domain VARCHAR(255) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	version VARCHAR(255) NOT NULL, 
	partition_keys TEXT NOT NULL, 
	metadata_json TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_catalog_datasets PRIMARY KEY (id), 
	CONSTRAINT uq_catalog_datasets_project_domain_name_version UNIQUE (project, domain, name, version)
);
-- table catalog_reads
CREATE TABLE catalog_reads (
	id INTEGER NOT NULL, 
	artifact_id VARCHAR(36) NOT NULL, 
	orchestrator VARCHAR(255) NOT NULL, 
	namespace VARCHAR(255) NOT NULL, 
	job VARCHAR(255) NOT NULL, 
	run_id VARCHAR(255) NOT NULL, 
	task VARCHAR(255) NOT NULL, 
	map_index INTEGER NOT NULL, 
	try_number INTEGER NOT NULL, 
	read_at DATETIME NOT NULL, 
	CONSTRAINT pk_catalog_reads PRIMARY KEY (id), 
	CONSTRAINT fk_catalog_reads_artifact_id_catalog_artifacts FOREIGN KEY(artifact_id) REFERENCES catalog_artifacts (id)
);
-- table catalog_reservations
CREATE TABLE catalog_reservations (
	dataset_id VARCHAR(36) NOT NULL, 
	tag_name VARCHAR(255) NOT NULL, 
	owner_id VARCHAR(255) NOT NULL, 
	heartbeat_seconds FLOAT NOT NULL, 
	expires_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_catalog_reservations PRIMARY KEY (dataset_id, tag_name), 
	CONSTRAINT fk_catalog_reservations_dataset_id_catalog_datasets FOREIGN KEY(dataset_id) REFERENCES catalog_datasets (id)
);
-- table catalog_retention
CREATE TABLE catalog_retention (
	dataset_id VARCHAR(36) NOT NULL, 
	keep_last INTEGER, 
	max_age_seconds FLOAT, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_catalog_retention PRIMARY KEY (dataset_id), 
	CONSTRAINT fk_catalog_retention_dataset_id_catalog_datasets FOREIGN KEY(dataset_id) REFERENCES catalog_datasets (id)
);
-- table catalog_tags
CREATE TABLE catalog_tags (
	dataset_id VARCHAR(36) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	artifact_id VARCHAR(36) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_catalog_tags PRIMARY KEY (dataset_id, name), 
	CONSTRAINT fk_catalog_tags_artifact_id_catalog_artifacts FOREIGN KEY(artifact_id) REFERENCES catalog_artifacts (id), 
	CONSTRAINT fk_catalog_tags_dataset_id_catalog_datasets FOREIGN KEY(dataset_id) REFERENCES catalog_datasets (id)
);
-- table catalog_version_counters
CREATE TABLE catalog_version_counters (
	dataset_id VARCHAR(36) NOT NULL, 
	partition_key TEXT NOT NULL, 
	last_version INTEGER NOT NULL, 
	CONSTRAINT pk_catalog_version_counters PRIMARY KEY (dataset_id, partition_key), 
	CONSTRAINT fk_catalog_version_counters_dataset_id_catalog_datasets FOREIGN KEY(dataset_id) REFERENCES catalog_datasets (id)
);
