// Opening a store: creation, reopening, schema versions and migrations, and refusing (without
// touching) files that are not flowgate databases.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/schema.h"
#include "store/store.h"
#include "store_fixture.h"

using namespace flowgate;
using namespace flowgate::store_test;

namespace {

std::unique_ptr<Store> open_writer(const std::string& path) {
  auto store = Store::open(writer_options(path));
  REQUIRE(store.has_value());
  return std::move(*store);
}

// A closed flowgate database holding a definition and `instances` started instances.
void make_database(const std::string& path, int instances) {
  auto store = open_writer(path);
  REQUIRE(store->put_definition(definition("ltc", 1)).has_value());
  BatchBuilder b;
  for (int i = 1; i <= instances; ++i) {
    b.start(fmt::format("ltc-{}", i), "ltc");
    b.request(fmt::format("r-{}", i), fmt::format("ltc-{}", i));
  }
  REQUIRE(store->commit(b.take()).has_value());
}

std::int64_t pragma(const std::string& path, const std::string& name) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA " + name).getInt64();
}

// Opening `path` as a writer and as a reader both fail with `code`, and the file is unchanged.
void require_refused(const std::string& path, ErrorCode code, StoreOptions options = {}) {
  const std::string before = file_digest(path);
  options.path = path;
  options.busy_timeout_ms = 200;
  for (bool read_only : {false, true}) {
    options.read_only = read_only;
    auto store = Store::open(options);
    REQUIRE_FALSE(store.has_value());
    INFO(store.error().to_string());
    CHECK(store.error().code == code);
    CHECK((store.error().message + store.error().hint).find(path) != std::string::npos);
  }
  CHECK(file_digest(path) == before);
}

}  // namespace

TEST_CASE("a missing database file is created with the flowgate schema", "[store]") {
  TempDir dir;
  const auto path = dir.file("new.db");
  open_writer(path).reset();
  REQUIRE(std::filesystem::exists(path));
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA application_id").getInt64() == kApplicationId);
  CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(db.execAndGet("SELECT value FROM meta WHERE key = 'schema_version'").getInt() ==
        kSchemaVersion);
  for (auto table : store_internal::current_tables()) {
    CHECK(db.tableExists(std::string(table)));
  }
}

TEST_CASE("a reopened store reads what an earlier one committed", "[store]") {
  TempDir dir;
  const auto path = dir.file("flowgate.db");
  make_database(path, 3);
  auto store = open_writer(path);
  auto got = store->get_instance("ltc-2");
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  CHECK((*got)->workflow_id == "ltc");
  CHECK(store->history("ltc-3")->size() == 1);
  CHECK(*store->max_instance_number() == 3);
}

TEST_CASE("a missing file is not created by a reader or when create is off", "[store]") {
  TempDir dir;
  const auto path = dir.file("absent.db");
  auto reader = Store::open(reader_options(path));
  REQUIRE_FALSE(reader.has_value());
  CHECK(reader.error().code == ErrorCode::kStorage);
  StoreOptions o = writer_options(path);
  o.create = false;
  auto writer = Store::open(o);
  REQUIRE_FALSE(writer.has_value());
  CHECK(writer.error().code == ErrorCode::kStorage);
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("a text file is refused as not a database and left unchanged", "[store]") {
  TempDir dir;
  const auto path = dir.file("notes.txt");
  write_bytes(path, "[workflow]\nid = \"ltc\"\nThis is not a database, it is a text file.\n");
  require_refused(path, ErrorCode::kNotADatabase);
}

TEST_CASE("a file of random bytes is refused as not a database and left unchanged", "[store]") {
  TempDir dir;
  const auto path = dir.file("random.bin");
  std::mt19937 rng(42);
  std::string bytes(64 * 1024, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng() & 0xff);
  write_bytes(path, bytes);
  require_refused(path, ErrorCode::kNotADatabase);
}

TEST_CASE("another application's SQLite database is refused and left unchanged", "[store]") {
  TempDir dir;
  const auto path = dir.file("other.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
    db.exec("INSERT INTO customers (name) VALUES ('ACME')");
  }
  require_refused(path, ErrorCode::kNotADatabase);
  auto store = Store::open(writer_options(path));
  CHECK(store.error().message.find("another application") != std::string::npos);
}

TEST_CASE("a SQLite database with a different application_id is refused", "[store]") {
  TempDir dir;
  const auto path = dir.file("fossil.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA application_id = 252006673");
    db.exec("CREATE TABLE blob (rid INTEGER PRIMARY KEY)");
  }
  require_refused(path, ErrorCode::kNotADatabase);
  auto store = Store::open(writer_options(path));
  CHECK(store.error().message.find("application_id is 0x0f055111") != std::string::npos);
}

TEST_CASE("a truncated flowgate database is refused as corrupt and left unchanged", "[store]") {
  TempDir dir;
  const auto path = dir.file("truncated.db");
  make_database(path, 300);
  const auto size = std::filesystem::file_size(path);
  const auto page = static_cast<std::uintmax_t>(pragma(path, "page_size"));
  std::filesystem::resize_file(path, (size / 2) / page * page);
  require_refused(path, ErrorCode::kNotADatabase);
  StoreOptions shallow;
  shallow.quick_check_max_bytes = 0;  // the header's page count alone shows the truncation
  require_refused(path, ErrorCode::kNotADatabase, shallow);
}

TEST_CASE("a flowgate database with garbage over its pages is refused as corrupt", "[store]") {
  TempDir dir;
  const auto path = dir.file("garbage.db");
  make_database(path, 300);
  std::string bytes = read_bytes(path);
  const auto page = static_cast<std::size_t>(pragma(path, "page_size"));
  REQUIRE(bytes.size() >= 8 * page);
  std::mt19937 rng(7);
  for (std::size_t i = 3 * page; i < 6 * page; ++i) bytes[i] = static_cast<char>(rng() & 0xff);
  write_bytes(path, bytes);
  StoreOptions deep;  // readers skip the page-by-page check unless asked for it
  deep.quick_check_max_bytes = std::int64_t{1} << 30;
  require_refused(path, ErrorCode::kNotADatabase, deep);
  auto writer = Store::open(writer_options(path));  // writers check small files by default
  REQUIRE_FALSE(writer.has_value());
  CHECK(writer.error().code == ErrorCode::kNotADatabase);
}

TEST_CASE("a flowgate database with garbage over its header is refused", "[store]") {
  TempDir dir;
  const auto path = dir.file("header.db");
  make_database(path, 5);
  std::string bytes = read_bytes(path);
  for (std::size_t i = 0; i < 100; ++i) bytes[i] = static_cast<char>(0xA5 ^ i);
  write_bytes(path, bytes);
  require_refused(path, ErrorCode::kNotADatabase);
}

TEST_CASE("a directory is refused as a database path", "[store]") {
  TempDir dir;
  const auto path = dir.file("a-directory");
  std::filesystem::create_directory(path);
  auto store = Store::open(writer_options(path));
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code == ErrorCode::kNotADatabase);
}

TEST_CASE("an empty file is initialised by a writer but refused by a reader", "[store]") {
  TempDir dir;
  const auto path = dir.file("empty.db");
  write_bytes(path, "");
  auto reader = Store::open(reader_options(path));
  REQUIRE_FALSE(reader.has_value());
  CHECK(reader.error().code == ErrorCode::kNotADatabase);
  CHECK(std::filesystem::file_size(path) == 0);
  open_writer(path).reset();
  CHECK(pragma(path, "application_id") == kApplicationId);
}

TEST_CASE("a database with a newer schema is refused with a request to upgrade", "[store]") {
  TempDir dir;
  const auto path = dir.file("future.db");
  make_database(path, 1);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE meta SET value = 99 WHERE key = 'schema_version'");
  }
  require_refused(path, ErrorCode::kSchemaTooNew);
  auto store = Store::open(writer_options(path));
  CHECK(store.error().message ==
        "database schema 99 is newer than this flowgate (1); upgrade flowgate");
}

TEST_CASE("a version-0 database (application_id only) is migrated by a writer", "[store]") {
  TempDir dir;
  const auto path = dir.file("v0.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
  }
  auto reader = Store::open(reader_options(path));
  REQUIRE_FALSE(reader.has_value());
  CHECK(reader.error().message.find("older than this flowgate") != std::string::npos);
  auto store = open_writer(path);
  CHECK(store->put_definition(definition("ltc", 1)).has_value());
  store.reset();
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT value FROM meta WHERE key = 'schema_version'").getInt() == 1);
}

TEST_CASE("migration steps run in order and record each version", "[store][migration]") {
  TempDir dir;
  const auto path = dir.file("steps.db");
  make_database(path, 2);
  std::vector<store_internal::Migration> steps(store_internal::migrations().begin(),
                                               store_internal::migrations().end());
  steps.push_back({2, "add a note to instances", [](SQLite::Database& db) {
                     db.exec("ALTER TABLE instances ADD COLUMN note TEXT NOT NULL DEFAULT ''");
                     db.exec("UPDATE instances SET note = 'migrated ' || instance_id");
                   }});
  steps.push_back({3, "a step that fails", [](SQLite::Database& db) {
                     db.exec("CREATE TABLE half_done (x)");
                     db.exec("INSERT INTO no_such_table VALUES (1)");
                   }});
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  store_internal::InspectOptions o;
  o.path = path;

  auto failed = store_internal::migrate(db, steps, 3, o);
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().message.find("version 3") != std::string::npos);
  // The failed run changed nothing, not even the step that succeeded before it.
  CHECK(db.execAndGet("SELECT value FROM meta WHERE key = 'schema_version'").getInt() == 1);
  CHECK_FALSE(db.tableExists("half_done"));
  CHECK(db.execAndGet("SELECT count(*) FROM pragma_table_info('instances') WHERE name = 'note'")
            .getInt() == 0);

  auto from = store_internal::migrate(db, steps, 2, o);
  REQUIRE(from.has_value());
  CHECK(*from == 1);
  CHECK(db.execAndGet("SELECT value FROM meta WHERE key = 'schema_version'").getInt() == 2);
  CHECK(db.execAndGet("SELECT note FROM instances WHERE instance_id = 'ltc-2'").getString() ==
        "migrated ltc-2");
  auto again = store_internal::migrate(db, steps, 2, o);
  REQUIRE(again.has_value());
  CHECK(*again == 2);

  // This binary only knows version 1: the migrated file is now too new for it.
  auto store = Store::open(writer_options(path));
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code == ErrorCode::kSchemaTooNew);
}

TEST_CASE("migration steps must be numbered from 1 without gaps", "[store][migration]") {
  TempDir dir;
  SQLite::Database db(dir.file("x.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  std::vector<store_internal::Migration> steps = {{2, "skips 1", [](SQLite::Database&) {}}};
  store_internal::InspectOptions o;
  o.path = dir.file("x.db");
  auto r = store_internal::migrate(db, steps, 2, o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kInternal);
}

TEST_CASE("a commit waits a bounded time for another writer's lock, then reports it",
          "[store][lock]") {
  TempDir dir;
  const auto path = dir.file("locked.db");
  make_database(path, 1);
  auto store = open_writer(path);
  SQLite::Database other(path, SQLite::OPEN_READWRITE);
  other.exec("BEGIN EXCLUSIVE");
  other.exec("INSERT INTO meta (key, value) VALUES ('held', 1)");

  BatchBuilder b;
  b.start("ltc-2", "ltc");
  WriteBatch batch = b.take();
  auto r = store->commit(batch);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kDatabaseLocked);
  CHECK(r.error().message.find(path) != std::string::npos);
  CHECK(r.error().message.find("waited 200 ms") != std::string::npos);

  other.exec("ROLLBACK");
  REQUIRE(store->commit(batch).has_value());
  CHECK(store->get_instance("ltc-2")->has_value());
}

TEST_CASE("opening a database that must be migrated while another writer holds it fails",
          "[store][lock]") {
  TempDir dir;
  const auto path = dir.file("v0-locked.db");
  SQLite::Database other(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  other.exec("PRAGMA journal_mode = WAL");
  other.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
  other.exec("BEGIN EXCLUSIVE");
  other.exec("CREATE TABLE scratch (x)");
  auto store = Store::open(writer_options(path));
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code == ErrorCode::kDatabaseLocked);
  other.exec("ROLLBACK");
  CHECK(Store::open(writer_options(path)).has_value());
}

TEST_CASE("a read-only store sees committed data and refuses writes", "[store]") {
  TempDir dir;
  const auto path = dir.file("ro.db");
  auto writer = open_writer(path);
  REQUIRE(writer->put_definition(definition("ltc", 1)).has_value());
  BatchBuilder b;
  b.start("ltc-1", "ltc");
  REQUIRE(writer->commit(b.take()).has_value());

  auto reader = Store::open(reader_options(path));
  REQUIRE(reader.has_value());
  auto& r = **reader;
  CHECK(r.get_instance("ltc-1")->has_value());
  CHECK(*r.max_instance_number() == 1);

  b.transition("ltc-1", "qualifying");
  REQUIRE(writer->commit(b.take()).has_value());
  CHECK(r.history("ltc-1")->size() == 2);  // a reader sees later commits too

  b.transition("ltc-1", "won");
  auto commit = r.commit(b.take());
  REQUIRE_FALSE(commit.has_value());
  CHECK(commit.error().code == ErrorCode::kStorage);
  CHECK(commit.error().message.find("read-only") != std::string::npos);
  CHECK_FALSE(r.put_definition(definition("itr", 1)).has_value());
  CHECK_FALSE(r.write_checkpoint(1).has_value());
  CHECK(r.history("ltc-1")->size() == 2);
}

TEST_CASE("negative timeouts and limits are refused", "[store]") {
  TempDir dir;
  StoreOptions o = writer_options(dir.file("x.db"));
  o.busy_timeout_ms = -1;
  auto store = Store::open(o);
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code == ErrorCode::kInvalidArgument);
}
