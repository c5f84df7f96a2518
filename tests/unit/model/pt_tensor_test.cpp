// PyTorch .pt tensors written without Python (docs/models/transfer1.md, "Weight tensors"): the
// archive's entries and sizes, the pickle torch.save writes, and the raw bytes of data/0 at a
// 64-byte boundary. tests/integration/test_weight_tensor.py loads the same files with torch.load.

#include "model/pt_tensor.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

#include <zip.h>

#include <gtest/gtest.h>

#include "model/weight_schedule.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos::model;
using cosmos::test::TempDir;

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint32_t le(const std::string& s, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
    }
    return v;
}

// Each entry's name -> {offset of its bytes in the file, stored size, compression method},
// walking the local headers from the start as a streaming reader would.
struct Local {
    std::size_t data_offset;
    std::uint32_t size;
    std::uint32_t method;
};
std::map<std::string, Local> local_entries(const std::string& file) {
    std::map<std::string, Local> out;
    std::size_t at = 0;
    while (at + 30 <= file.size() && le(file, at, 4) == 0x04034b50) {
        std::uint32_t method = le(file, at + 8, 2);
        std::uint32_t size = le(file, at + 18, 4);
        std::uint32_t name_len = le(file, at + 26, 2);
        std::uint32_t extra_len = le(file, at + 28, 2);
        std::string name = file.substr(at + 30, name_len);
        std::size_t data = at + 30 + name_len + extra_len;
        out[name] = {data, size, method};
        at = data + size;
    }
    return out;
}

std::vector<float> ramp(std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = static_cast<float>(i) * 0.25F;
    }
    return v;
}

}  // namespace

TEST(PtTensor, PickleIsWhatTorchSaveWrites) {
    // torch.save(torch.arange(6, dtype=torch.float32).reshape(1, 2, 3), "x.pt"), data.pkl.
    const std::string expected(
        "\x80\x02"
        "ctorch._utils\n_rebuild_tensor_v2\nq\x00((X\x07\x00\x00\x00storageq\x01"
        "ctorch\nFloatStorage\nq\x02X\x01\x00\x00\x00"
        "0q\x03X\x03\x00\x00\x00"
        "cpuq\x04K\x06tq\x05QK\x00K\x01K\x02K\x03\x87q\x06K\x06K\x03K\x01\x87q\x07\x89"
        "ccollections\nOrderedDict\nq\x08)Rq\ttq\nRq\x0b.",
        158);
    const std::int64_t shape[] = {1, 2, 3};
    EXPECT_EQ(pt_tensor_pickle(shape), expected);

    // Larger ints take BININT2 and BININT, as Python's pickler picks them; 2-D shapes TUPLE2.
    const std::int64_t big[] = {121, 704, 1280};
    std::string p = pt_tensor_pickle(big);
    EXPECT_NE(p.find(std::string("J\x00\xc0\x7f\x06", 5)), std::string::npos);  // 109035520
    EXPECT_NE(p.find(std::string("Ky\x4d\xc0\x02M\x00\x05\x87", 9)), std::string::npos);
    const std::int64_t flat[] = {4, 300};
    EXPECT_NE(pt_tensor_pickle(flat).find(std::string("K\x04M\x2c\x01\x86", 6)), std::string::npos);
}

TEST(PtTensor, ArchiveHoldsTheRecordsUnderAFolderNamedLikeTheFile) {
    TempDir dir;
    auto path = (dir / "depth_weights.pt").string();
    const std::int64_t shape[] = {2, 3, 4};
    auto values = ramp(24);
    ASSERT_TRUE(write_pt_tensor(path, shape, values));

    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
    ASSERT_NE(z, nullptr) << err;
    ASSERT_EQ(zip_get_num_entries(z, 0), 4);
    const std::vector<std::pair<std::string, zip_uint64_t>> expected = {
        {"depth_weights/data.pkl", pt_tensor_pickle(shape).size()},
        {"depth_weights/byteorder", 6},
        {"depth_weights/data/0", 24 * 4},
        {"depth_weights/version", 2},
    };
    for (zip_int64_t i = 0; i < 4; ++i) {
        zip_stat_t st;
        ASSERT_EQ(zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st), 0);
        EXPECT_EQ(st.name, expected[static_cast<std::size_t>(i)].first);
        EXPECT_EQ(st.size, expected[static_cast<std::size_t>(i)].second) << st.name;
        EXPECT_EQ(st.comp_method, ZIP_CM_STORE) << st.name;
    }
    auto read = [&](const char* name) {
        zip_stat_t st;
        EXPECT_EQ(zip_stat(z, name, 0, &st), 0) << name;
        std::string out(st.size, '\0');
        zip_file_t* f = zip_fopen(z, name, 0);
        EXPECT_NE(f, nullptr);
        EXPECT_EQ(zip_fread(f, out.data(), st.size), static_cast<zip_int64_t>(st.size));
        zip_fclose(f);
        return out;
    };
    EXPECT_EQ(read("depth_weights/version"), "3\n");
    EXPECT_EQ(read("depth_weights/byteorder"), "little");
    EXPECT_EQ(read("depth_weights/data.pkl"), pt_tensor_pickle(shape));
    std::string data = read("depth_weights/data/0");
    zip_close(z);

    // data/0: little-endian float32, row-major: element i is i * 0.25.
    ASSERT_EQ(data.size(), 96U);
    for (std::size_t i = 0; i < 24; ++i) {
        std::uint32_t bits = le(data, i * 4, 4);
        float f = 0;
        std::memcpy(&f, &bits, 4);
        EXPECT_EQ(f, static_cast<float>(i) * 0.25F) << i;
    }
    EXPECT_EQ(le(data, 4, 4), 0x3e800000U);  // 0.25f

    // The same bytes sit in the file itself, stored, starting on a 64-byte boundary.
    std::string file = slurp(path);
    auto locals = local_entries(file);
    ASSERT_EQ(locals.size(), 4U);
    const Local& d = locals.at("depth_weights/data/0");
    EXPECT_EQ(d.data_offset % 64, 0U) << d.data_offset;
    EXPECT_EQ(d.method, 0U);
    EXPECT_EQ(file.substr(d.data_offset, d.size), data);

    // Nothing else is left beside it (the temporary file was renamed over).
    int files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
        ++files;
    }
    EXPECT_EQ(files, 1);
}

TEST(PtTensor, AlignsDataForEveryNameLength) {
    TempDir dir;
    const std::int64_t shape[] = {3, 5};
    auto values = ramp(15);
    for (std::string name = "w"; name.size() < 70; name += "x") {
        auto path = (dir / (name + ".pt")).string();
        ASSERT_TRUE(write_pt_tensor(path, shape, values));
        auto locals = local_entries(slurp(path));
        ASSERT_EQ(locals.count(name + "/data/0"), 1U) << name;
        EXPECT_EQ(locals.at(name + "/data/0").data_offset % 64, 0U) << name;
    }
}

TEST(PtTensor, RefusesBadShapesAndCounts) {
    TempDir dir;
    auto path = (dir / "w.pt").string();
    auto values = ramp(6);
    const std::int64_t zero[] = {0, 6};
    const std::int64_t zero3[] = {2, 0, 3};
    const std::int64_t negative[] = {-2, -3};
    const std::int64_t flat[] = {6};
    const std::int64_t four[] = {1, 1, 2, 3};
    const std::int64_t wrong[] = {2, 2};
    const std::int64_t huge[] = {k_max_pt_elements, 2};
    const std::int64_t huge3[] = {65536, 65536, 65536};
    for (auto shape : {std::span<const std::int64_t>(zero),
                       std::span<const std::int64_t>(zero3),
                       std::span<const std::int64_t>(negative),
                       std::span<const std::int64_t>(flat),
                       std::span<const std::int64_t>(four),
                       std::span<const std::int64_t>(wrong),
                       std::span<const std::int64_t>(huge),
                       std::span<const std::int64_t>(huge3)}) {
        auto st = write_pt_tensor(path, shape, values);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code, cosmos::core::ErrorCode::invalid_input) << st.error().message;
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    const std::int64_t ok[] = {2, 3};
    auto nameless = write_pt_tensor((dir / "sub/").string(), ok, values);
    ASSERT_FALSE(nameless);
    EXPECT_EQ(nameless.error().code, cosmos::core::ErrorCode::invalid_input);
    auto missing_dir = write_pt_tensor((dir / "no/such/dir/w.pt").string(), ok, values);
    ASSERT_FALSE(missing_dir);
    EXPECT_EQ(missing_dir.error().code, cosmos::core::ErrorCode::io);
    EXPECT_EQ(pt_archive_folder("/a/b/weights.pt"), "weights");
    EXPECT_EQ(pt_archive_folder("weights"), "weights");
}

// Not a check: with COSMOS_PT_TENSOR_OUT=DIR it writes the files that
// tests/integration/test_weight_tensor.py loads with torch.load and feeds to the emulator.
TEST(PtTensor, WritesIntegrationFiles) {
    const char* out = std::getenv("COSMOS_PT_TENSOR_OUT");
    if (out == nullptr || *out == '\0') {
        GTEST_SKIP() << "COSMOS_PT_TENSOR_OUT not set";
    }
    // [5,3,4]: a linear schedule over the frames plus a distinct offset per pixel, so a wrong
    // order of dimensions or strides shows up as wrong values.
    auto schedule = parse_weight_schedule("1:0.8,3:0.2");
    ASSERT_TRUE(schedule);
    auto frames = *expand_schedule(*schedule, 5);
    std::vector<float> values;
    for (double w : frames) {
        for (int h = 0; h < 3; ++h) {
            for (int x = 0; x < 4; ++x) {
                values.push_back(static_cast<float>(w + h * 0.01 + x * 0.001));
            }
        }
    }
    const std::int64_t shape3[] = {5, 3, 4};
    ASSERT_TRUE(write_pt_tensor(std::string(out) + "/schedule_3d.pt", shape3, values));
    const std::int64_t shape2[] = {3, 4};
    std::vector<float> plane(values.begin(), values.begin() + 12);
    ASSERT_TRUE(write_pt_tensor(std::string(out) + "/mask_2d.pt", shape2, plane));
}
