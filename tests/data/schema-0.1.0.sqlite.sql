-- The schema of kakari 0.1.0 (main before migrations), made by metadata.create_all (sqlite).

-- Used by tests/test_jobs_migrations.py to upgrade a database of the previous release.

CREATE TABLE baselines (
	id INTEGER NOT NULL, 
	"key" VARCHAR(64) NOT NULL, 
	department VARCHAR(100) NOT NULL, 
	task VARCHAR(200) NOT NULL, 
	minutes FLOAT NOT NULL, 
	observed_on DATETIME, 
	note TEXT, 
	source VARCHAR(200), 
	PRIMARY KEY (id), 
	UNIQUE ("key")
);

CREATE TABLE documents (
	id INTEGER NOT NULL, 
	doc_id VARCHAR(64) NOT NULL, 
	job VARCHAR(100) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	bot VARCHAR(100), 
	original_name TEXT, 
	stored_path TEXT, 
	received_at DATETIME, 
	finished_at DATETIME, 
	reason TEXT, 
	run_id VARCHAR(40), 
	record JSON, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_documents_doc_job UNIQUE (doc_id, job)
);

CREATE TABLE events (
	id INTEGER NOT NULL, 
	ts DATETIME NOT NULL, 
	doc_id VARCHAR(64), 
	job VARCHAR(100), 
	event VARCHAR(40) NOT NULL, 
	detail TEXT, 
	run_id VARCHAR(40), 
	PRIMARY KEY (id)
);

CREATE TABLE pending_writes (
	id INTEGER NOT NULL, 
	doc_id VARCHAR(64) NOT NULL, 
	job VARCHAR(100) NOT NULL, 
	sink VARCHAR(100) NOT NULL, 
	payload JSON NOT NULL, 
	created DATETIME NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_try DATETIME, 
	last_error TEXT, 
	done_at DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_pending_doc_job_sink UNIQUE (doc_id, job, sink)
);

CREATE TABLE runs (
	run_id VARCHAR(40) NOT NULL, 
	job VARCHAR(100) NOT NULL, 
	"trigger" VARCHAR(40), 
	started DATETIME NOT NULL, 
	finished DATETIME, 
	status VARCHAR(20) NOT NULL, 
	counts JSON, 
	robot_seconds FLOAT, 
	stats JSON, 
	log_excerpt TEXT, 
	PRIMARY KEY (run_id)
);

CREATE TABLE schedule_state (
	name VARCHAR(100) NOT NULL, 
	last_fire DATETIME, 
	last_run_id VARCHAR(40), 
	last_status VARCHAR(20), 
	PRIMARY KEY (name)
);

CREATE TABLE time_log (
	id INTEGER NOT NULL, 
	doc_id VARCHAR(200) NOT NULL, 
	job VARCHAR(100) NOT NULL, 
	step VARCHAR(100) NOT NULL, 
	department VARCHAR(100) NOT NULL, 
	task VARCHAR(200) NOT NULL, 
	bot VARCHAR(100), 
	status VARCHAR(20), 
	work_date DATETIME NOT NULL, 
	started DATETIME, 
	finished DATETIME, 
	items INTEGER NOT NULL, 
	robot_seconds FLOAT NOT NULL, 
	minutes_before FLOAT NOT NULL, 
	minutes_after FLOAT NOT NULL, 
	baseline VARCHAR(20) NOT NULL, 
	source VARCHAR(40) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_time_log_doc_job_step UNIQUE (doc_id, job, step)
);

CREATE TABLE users (
	username VARCHAR(100) NOT NULL, 
	password_hash TEXT NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	section VARCHAR(100), 
	created DATETIME, 
	PRIMARY KEY (username)
);

CREATE TABLE web_submissions (
	id INTEGER NOT NULL, 
	doc_id VARCHAR(64) NOT NULL, 
	system VARCHAR(100) NOT NULL, 
	job VARCHAR(100) NOT NULL, 
	"key" VARCHAR(64) NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	confirmation VARCHAR(100), 
	via VARCHAR(20), 
	attempts INTEGER NOT NULL, 
	last_error TEXT, 
	created DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	started DATETIME, 
	submitted_at DATETIME, 
	confirmed_at DATETIME, 
	synced_at DATETIME, 
	lease_owner VARCHAR(200), 
	lease_until DATETIME, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_web_submissions_doc_system UNIQUE (doc_id, system), 
	CONSTRAINT uq_web_submissions_system_key UNIQUE (system, "key")
);
