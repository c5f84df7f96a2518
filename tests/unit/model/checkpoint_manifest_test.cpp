// Checkpoint manifests: round trip, refusal of malformed manifests, and a diff that names every
// missing, changed and extra file.

#include "model/checkpoint_manifest.hpp"

#include <gtest/gtest.h>

using namespace cosmos;

namespace {

std::string hex(char c) {
    return std::string(64, c);
}

model::Manifest sample() {
    return model::make_manifest({
        {"nvidia/Cosmos-Transfer1-7B/vis_control.pt", 10, hex('b'), std::nullopt, std::nullopt},
        {"nvidia/Cosmos-Transfer1-7B/base_model.pt", 100, hex('a'), std::nullopt, std::nullopt},
        {"google-t5/t5-11b/config.json", 5, hex('c'), std::nullopt, std::nullopt},
        {"other/file.bin", 1, hex('d'), std::nullopt, std::nullopt},
    });
}

}  // namespace

TEST(CheckpointManifest, SortsAndNamesRepositories) {
    auto m = sample();
    ASSERT_EQ(m.files.size(), 4u);
    EXPECT_EQ(m.files[0].path, "google-t5/t5-11b/config.json");
    EXPECT_EQ(m.files[0].repo, "google-t5/t5-11b");
    EXPECT_EQ(m.files[1].repo, "nvidia/Cosmos-Transfer1-7B");
    EXPECT_EQ(m.files[3].repo, std::nullopt);
    // The longest listed repository wins (…-Sample-AV is not …-7B).
    EXPECT_EQ(model::checkpoint_repo("nvidia/Cosmos-Transfer1-7B-Sample-AV/base_model.pt"),
              "nvidia/Cosmos-Transfer1-7B-Sample-AV");
    EXPECT_EQ(model::reference_md5("nvidia/Cosmos-Transfer1-7B/base_model.pt"),
              "356497b415f3b0697f8bb034d22b6807");
}

TEST(CheckpointManifest, RoundTrips) {
    auto m = sample();
    auto parsed = model::parse_manifest(model::manifest_json(m).dump());
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_EQ(parsed->files.size(), m.files.size());
    EXPECT_TRUE(model::diff_manifests(m, *parsed).ok());
    EXPECT_EQ(model::diff_manifests(m, *parsed).matched, 4u);
}

TEST(CheckpointManifest, RefusesMalformedManifests) {
    EXPECT_FALSE(model::parse_manifest("not json"));
    EXPECT_FALSE(model::parse_manifest(R"({"format":"x","version":1,"files":[]})"));
    auto with = [](const std::string& entry) {
        return model::parse_manifest(
            R"({"format":"cosmos-checkpoint-manifest","version":1,"files":[)" + entry + "]}");
    };
    EXPECT_TRUE(with(R"({"path":"a/b","size":1,"sha256":")" + hex('0') + "\"}"));
    auto abs = with(R"({"path":"/etc/passwd","size":1,"sha256":")" + hex('0') + "\"}");
    ASSERT_FALSE(abs);
    EXPECT_NE(abs.error().message.find("/etc/passwd"), std::string::npos);
    EXPECT_FALSE(with(R"({"path":"a/../b","size":1,"sha256":")" + hex('0') + "\"}"));
    EXPECT_FALSE(with(R"({"path":"a","size":1,"sha256":"ABC"})"));
    EXPECT_FALSE(with(R"({"path":"a","size":-1,"sha256":")" + hex('0') + "\"}"));
    auto dup = R"({"path":"a","size":1,"sha256":")" + hex('0') + "\"}";
    EXPECT_FALSE(with(dup + "," + dup));
}

TEST(CheckpointManifest, DiffNamesMissingChangedAndExtraFiles) {
    auto expected = sample();
    auto actual = expected;
    // One byte changed (same size, other hash), one removed, one added.
    actual.files[1].sha256 = hex('e');
    actual.files.erase(actual.files.begin() + 3);
    actual.files.push_back({"nvidia/Cosmos-Transfer1-7B/new.pt", 3, hex('f'), {}, {}});
    actual = model::make_manifest(actual.files);
    auto d = model::diff_manifests(expected, actual);
    EXPECT_FALSE(d.ok());
    ASSERT_EQ(d.changed.size(), 1u);
    EXPECT_EQ(d.changed[0].path, "nvidia/Cosmos-Transfer1-7B/base_model.pt");
    EXPECT_EQ(d.missing, std::vector<std::string>{"other/file.bin"});
    EXPECT_EQ(d.extra, std::vector<std::string>{"nvidia/Cosmos-Transfer1-7B/new.pt"});
    EXPECT_EQ(d.matched, 2u);
    auto lines = model::describe_diff(d);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "missing other/file.bin");
    EXPECT_EQ(lines[1].rfind("changed nvidia/Cosmos-Transfer1-7B/base_model.pt", 0), 0u);
    EXPECT_EQ(lines[2], "extra nvidia/Cosmos-Transfer1-7B/new.pt");
}

TEST(CheckpointManifest, IgnoresDownloadLeftovers) {
    EXPECT_TRUE(model::ignored_checkpoint_path(".cache/huggingface/x.metadata"));
    EXPECT_TRUE(model::ignored_checkpoint_path("nvidia/X/.cache/huggingface/y"));
    EXPECT_TRUE(model::ignored_checkpoint_path("nvidia/X/model.pt.part"));
    EXPECT_FALSE(model::ignored_checkpoint_path("nvidia/X/model.pt"));
}
