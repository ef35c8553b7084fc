#include "routing/directory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "routing/address.hpp"
#include "routing/directory_loader.hpp"

namespace mxdp::routing {
namespace {

TEST(Address, DomainIsCaseInsensitiveLocalPartExact) {
  EXPECT_EQ(normalize_address("Alice@Example.COM"), "Alice@example.com");
  EXPECT_EQ(address_hash("Alice@Example.COM"), address_hash("Alice@example.com"));
  EXPECT_NE(address_hash("alice@example.com"), address_hash("Alice@example.com"));
  EXPECT_TRUE(address_matches("Alice@example.com", "Alice@EXAMPLE.com"));
  EXPECT_FALSE(address_matches("Alice@example.com", "alice@example.com"));
  // The last '@' separates (a quoted local part may contain one).
  EXPECT_EQ(normalize_address("\"a@b\"@X.org"), "\"a@b\"@x.org");
  EXPECT_EQ(normalize_address("Postmaster"), "Postmaster@");
}

// address_hash reads 8 bytes at a time and folds case with OR 0x20: the hash
// of any case variant of the domain equals that of the stored key, for every
// tail length of both parts, and the local part stays case-sensitive.
TEST(Address, HashFoldsDomainCaseAtEveryLength) {
  EXPECT_EQ(address_hash("User@Example.TEST"), address_hash("User@example.test"));
  EXPECT_EQ(address_hash("User@Example.TEST"), address_hash(normalize_address("User@Example.TEST")));
  EXPECT_NE(address_hash("User@example.test"), address_hash("user@example.test"));
  EXPECT_NE(address_hash("User@example.test"), address_hash("USER@example.test"));
  // Where the '@' falls is part of the hash.
  EXPECT_NE(address_hash("ab@c"), address_hash("a@bc"));
  EXPECT_NE(address_hash("abc@"), address_hash("@abc"));
  // No '@': an empty domain, as normalize_address writes it.
  EXPECT_EQ(address_hash("Postmaster"), address_hash("Postmaster@"));
  EXPECT_EQ(address_hash("Postmaster"), address_hash(normalize_address("Postmaster")));

  Directory dir(4000);
  std::vector<std::string> stored;
  const std::string letters = "abcdefghijklmnopqrstuvwxyz";
  const std::string digits = "0123456789-.";
  for (std::size_t local_len = 1; local_len <= 40; ++local_len) {
    for (std::size_t domain_len = 1; domain_len <= 40; domain_len += (local_len % 8 == 1 ? 1 : 13)) {
      std::string local;
      for (std::size_t i = 0; i < local_len; ++i)
        local.push_back(static_cast<char>((i % 2 == 0 ? 'a' : 'A') + (i + local_len) % 26));
      std::string domain;
      for (std::size_t i = 0; i < domain_len; ++i)
        domain.push_back(i % 5 == 4 ? digits[(i + domain_len) % digits.size()]
                                    : letters[(i * 7 + domain_len) % 26]);
      std::string key = local;
      key.append("@").append(domain);
      ASSERT_EQ(dir.upsert(
                    key, Entry::mailbox_on(ShardId{1}, MailboxId{static_cast<std::uint32_t>(stored.size())})),
                DirectoryStatus::kOk);
      stored.push_back(key);
    }
  }
  auto reader = dir.reader();
  for (std::size_t k = 0; k < stored.size(); ++k) {
    const std::string& key = stored[k];
    const std::size_t at = key.rfind('@');
    // Three case variants of the domain: all upper, alternating, as stored.
    for (int variant = 0; variant < 3; ++variant) {
      std::string a = key;
      for (std::size_t i = at + 1; i < a.size(); ++i) {
        if ((variant == 0 || (variant == 1 && i % 2 == 0)) && a[i] >= 'a' && a[i] <= 'z')
          a[i] = static_cast<char>(a[i] - 32);
      }
      ASSERT_EQ(address_hash(a), address_hash(key)) << a;
      const Lookup l = reader.lookup(a);
      ASSERT_EQ(l.kind, Resolution::kMailbox) << a;
      EXPECT_EQ(l.entry.mailbox, MailboxId{static_cast<std::uint32_t>(k)}) << a;
    }
    // The local part in another case names nobody.
    std::string other = key;
    other[0] = static_cast<char>(other[0] ^ 0x20);
    EXPECT_EQ(reader.lookup(other).kind, Resolution::kUnknown) << other;
  }
}

// Every byte of either part counts, whatever the part's length (the word
// loads and the 1..7-byte tails read each byte exactly once).
TEST(Address, HashDependsOnEveryByte) {
  for (std::size_t local_len = 1; local_len <= 24; ++local_len) {
    for (std::size_t domain_len = 1; domain_len <= 24; ++domain_len) {
      std::string a(local_len, 'l');
      a.append("@").append(domain_len, 'd');
      const std::uint64_t h = address_hash(a);
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i == local_len) continue;  // the '@'
        std::string b = a;
        b[i] = 'x';
        EXPECT_NE(address_hash(b), h) << a << " vs " << b;
      }
    }
  }
}

// OR 0x20 also merges a few non-letters ('[' and '{', ']' and '}', '@' and
// '`'): such domains may share a hash, but address_matches keeps them apart.
TEST(Address, HashCaseFoldMergesAreResolvedByTheKeyCompare) {
  EXPECT_EQ(address_hash("a@[x]"), address_hash("a@{x}"));  // the documented merge
  Directory dir(10);
  ASSERT_EQ(dir.upsert("a@[x]", Entry::mailbox_on(ShardId{0}, MailboxId{1})), DirectoryStatus::kOk);
  ASSERT_EQ(dir.upsert("a@{x}", Entry::mailbox_on(ShardId{0}, MailboxId{2})), DirectoryStatus::kOk);
  EXPECT_EQ(dir.lookup("a@[x]").entry.mailbox, MailboxId{1});
  EXPECT_EQ(dir.lookup("a@{x}").entry.mailbox, MailboxId{2});
  EXPECT_EQ(dir.lookup("a@[X]").entry.mailbox, MailboxId{1});
  EXPECT_EQ(dir.lookup("a@(x)").kind, Resolution::kUnknown);
  EXPECT_EQ(dir.size(), 2u);
}

// The low bits pick the bucket: 100 000 directory-shaped addresses have
// distinct 64-bit hashes and spread over 2^16 buckets without a pile-up
// (mean 1.5; a uniform hash gives a maximum around 9).
TEST(Address, HashSpreadsDirectoryShapedAddresses) {
  std::vector<std::uint64_t> hashes;
  std::vector<std::uint32_t> buckets(1 << 16);
  for (std::size_t i = 0; i < 100000; ++i) {
    std::string a = "user";
    a.append(std::to_string(i)).append("@d").append(std::to_string(i % 97)).append(".example");
    hashes.push_back(address_hash(a));
    ++buckets[hashes.back() & 0xffff];
  }
  std::sort(hashes.begin(), hashes.end());
  EXPECT_EQ(std::adjacent_find(hashes.begin(), hashes.end()), hashes.end());
  EXPECT_LE(*std::max_element(buckets.begin(), buckets.end()), 16u);
}

TEST(Directory, AddLookupMoveRemove) {
  Directory dir(100);
  const ServerId mx2 = dir.intern_server("mx2.example.net");
  EXPECT_EQ(dir.intern_server("mx2.example.net"), mx2);
  EXPECT_EQ(dir.server_name(mx2), "mx2.example.net");
  ASSERT_EQ(dir.upsert("alice@example.com", Entry::mailbox_on(ShardId{1}, MailboxId{7})),
            DirectoryStatus::kOk);
  ASSERT_EQ(dir.upsert("pf@example.com", Entry::referral_to(mx2)), DirectoryStatus::kOk);
  auto r = dir.reader();
  Lookup l = r.lookup("alice@EXAMPLE.com");
  ASSERT_EQ(l.kind, Resolution::kMailbox);
  EXPECT_EQ(l.entry.shard, ShardId{1});
  EXPECT_EQ(l.entry.mailbox, MailboxId{7});
  EXPECT_EQ(r.lookup("Alice@example.com").kind, Resolution::kUnknown);  // local part is exact
  EXPECT_EQ(r.lookup("pf@example.com").kind, Resolution::kReferral);
  EXPECT_EQ(r.lookup("nobody@example.com").kind, Resolution::kUnknown);

  ASSERT_EQ(dir.upsert("alice@example.com", Entry::moved_to_shard(ShardId{3}, MailboxId{7})),
            DirectoryStatus::kOk);
  EXPECT_EQ(r.lookup("alice@example.com").kind, Resolution::kMovedShard);
  EXPECT_TRUE(r.lookup("alice@example.com").on_box());
  ASSERT_EQ(dir.upsert("alice@example.com", Entry::moved_to_server(mx2)), DirectoryStatus::kOk);
  EXPECT_EQ(r.lookup("alice@example.com").kind, Resolution::kMovedServer);
  EXPECT_EQ(dir.size(), 2u);
  ASSERT_EQ(dir.remove("alice@example.com"), DirectoryStatus::kOk);
  EXPECT_EQ(r.lookup("alice@example.com").kind, Resolution::kUnknown);
  EXPECT_EQ(dir.remove("alice@example.com"), DirectoryStatus::kNotFound);
  EXPECT_EQ(dir.size(), 1u);
  // Re-adding reuses the key's bucket.
  ASSERT_EQ(dir.upsert("alice@example.com", Entry::mailbox_on(ShardId{0}, MailboxId{1})),
            DirectoryStatus::kOk);
  EXPECT_EQ(r.lookup("alice@example.com").kind, Resolution::kMailbox);
}

TEST(Directory, FullIsReportedNotOverrun) {
  Directory dir(3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(dir.upsert("u" + std::to_string(i) + "@x", Entry::mailbox_on({}, {})), DirectoryStatus::kOk);
  }
  EXPECT_EQ(dir.upsert("u9@x", Entry::mailbox_on({}, {})), DirectoryStatus::kFull);
  EXPECT_EQ(dir.upsert("u1@x", Entry::mailbox_on(ShardId{1}, {})),
            DirectoryStatus::kOk);  // updates still work
}

// Readers on several threads while the admin moves entries: every lookup of a
// known address answers some entry that was published for it, never unknown,
// never garbage; retired nodes are reclaimed (ASan/TSan watch the memory).
TEST(Directory, LookupsRaceMovesWithoutTornOrLostEntries) {
  constexpr int kAddrs = 2000;
  Directory dir(kAddrs, 8);
  for (int i = 0; i < kAddrs; ++i) {
    dir.upsert("user" + std::to_string(i) + "@example.com",
               Entry::mailbox_on(ShardId{0}, MailboxId{static_cast<std::uint32_t>(i)}));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      auto r = dir.reader();
      std::uint32_t i = static_cast<std::uint32_t>(t);
      while (!stop.load(std::memory_order_relaxed)) {
        i = (i * 2654435761u + 1) % kAddrs;
        const Lookup l = r.lookup("user" + std::to_string(i) + "@EXAMPLE.com");
        if (!l.on_box() || l.entry.mailbox.value != i || l.entry.shard.value > 3) bad.fetch_add(1);
      }
    });
  }
  for (int round = 0; round < 20000; ++round) {
    const auto i = static_cast<std::uint32_t>((round * 7919) % kAddrs);
    const Entry e = (round & 1)
                        ? Entry::moved_to_shard(ShardId{static_cast<std::uint16_t>(round % 4)}, MailboxId{i})
                        : Entry::mailbox_on(ShardId{static_cast<std::uint16_t>(round % 4)}, MailboxId{i});
    dir.upsert("user" + std::to_string(i) + "@example.com", e);
  }
  stop = true;
  for (auto& t : readers)
    t.join();
  EXPECT_EQ(bad.load(), 0);
  dir.reclaim();
  EXPECT_EQ(dir.retired_count(), 0u);
}

TEST(DirectoryLoader, ParsesEveryKindAndReportsBadLines) {
  Directory dir(16);
  const std::size_t n = load_directory_csv_text(dir,
                                                "address,kind,arg\n"
                                                "# a comment\n"
                                                "\n"
                                                "alice@Example.COM,mailbox,0:17\r\n"
                                                "pf-sales@example.com,referral,mx2.example.net\n"
                                                "bob@example.com , moved-server , mx3.example.net\n"
                                                "carol@example.com,moved-shard,2:5\n");
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(dir.lookup("alice@example.com").entry.mailbox, MailboxId{17});
  const Lookup pf = dir.lookup("pf-sales@EXAMPLE.com");
  EXPECT_EQ(pf.kind, Resolution::kReferral);
  EXPECT_EQ(dir.server_name(pf.entry.server), "mx2.example.net");
  EXPECT_EQ(dir.lookup("bob@example.com").kind, Resolution::kMovedServer);
  EXPECT_EQ(dir.lookup("carol@example.com").entry.shard, ShardId{2});

  try {
    load_directory_csv_text(dir, "x@y,mailbox,1:2\nbad@y,mailbox,one\n", "dir.csv");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "dir.csv:2: expected SHARD:MAILBOX, e.g. 0:17");
  }
  EXPECT_THROW(load_directory_csv_text(dir, "x@y,frobnicate,1\n"), std::runtime_error);
  EXPECT_THROW(load_directory_csv_text(dir, "no-at-sign,mailbox,1:1\n"), std::runtime_error);
  EXPECT_THROW(load_directory_csv_text(dir, "x@y,mailbox\n"), std::runtime_error);
}

TEST(DirectoryLoader, LoadsAFileSizedFromItsLineCount) {
  const std::string path = ::testing::TempDir() + "/routing_dir_test.csv";
  {
    std::ofstream f(path);
    f << "address,kind,arg\n";
    for (int i = 0; i < 100000; ++i) {
      if (i % 5 == 0) {
        f << "u" << i << "@d" << i % 13 << ".example,referral,mx" << i % 3 << ".example.net\n";
      } else {
        f << "u" << i << "@d" << i % 13 << ".example,mailbox," << i % 4 << ":" << i << "\n";
      }
    }
  }
  auto dir = load_directory_csv_file(path);
  EXPECT_EQ(dir->size(), 100000u);
  EXPECT_GE(dir->max_entries(), 125000u);
  EXPECT_EQ(dir->lookup("u12345@D8.example").kind, Resolution::kReferral);  // 12345 % 13 == 8
  EXPECT_EQ(dir->lookup("u12346@D9.example").kind, Resolution::kMailbox);
  EXPECT_EQ(dir->lookup("u12346@d8.example").kind, Resolution::kUnknown);
  std::remove(path.c_str());
  EXPECT_THROW(load_directory_csv_file("/nonexistent/dir.csv"), std::runtime_error);
}

}  // namespace
}  // namespace mxdp::routing

namespace mxdp::routing {
namespace {

// The look-ahead hints touch nothing they could break: any address, present
// or not, after removals, is safe to prefetch, and lookups answer as before.
TEST(DirectoryPrefetch, HintsAreHarmless) {
  Directory dir(16);
  ASSERT_EQ(dir.upsert("a@x.example", Entry::mailbox_on(ShardId{1}, MailboxId{7})), DirectoryStatus::kOk);
  ASSERT_EQ(dir.remove("a@x.example"), DirectoryStatus::kOk);
  ASSERT_EQ(dir.upsert("b@x.example", Entry::mailbox_on(ShardId{2}, MailboxId{8})), DirectoryStatus::kOk);
  for (std::string_view a : {"a@x.example", "b@X.EXAMPLE", "nobody@x.example", ""})
    dir.prefetch_node(dir.prefetch_bucket(a));
  EXPECT_FALSE(dir.lookup("a@x.example").known());
  EXPECT_EQ(dir.lookup("b@x.example").entry.mailbox, MailboxId{8});
  EXPECT_EQ(dir.prefetch_bucket("b@x.example"), dir.prefetch_bucket("b@X.example"));
}

}  // namespace
}  // namespace mxdp::routing
