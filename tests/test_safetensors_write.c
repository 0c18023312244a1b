/* Unit tests of the safetensors writer and the atomic replacement of
 * files: the same bytes whatever the order given, permissions, symbolic
 * links, temporary files left by a killed writer, and failures midway. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"
#include "test_util.h"

#define EXPECT_MESSAGE_HAS(part)                                                         \
    do {                                                                                 \
        if (!strstr(cnn_error_message(), (part))) {                                      \
            fprintf(stderr, "%s:%d: message\n  %s\ndoes not contain\n  %s\n", __FILE__,  \
                    __LINE__, cnn_error_message(), (part));                              \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

static char dir[] = "/tmp/cnn_safetensors_XXXXXX";

static const char *in_dir(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    return p;
}

/* The whole file in new memory (NULL if it cannot be read). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *buf = malloc(*len + 1);
    if (buf && fread(buf, 1, *len, f) != *len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static bool same_contents(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    bool same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

/* Entries of the directory whose name contains ".tmp.". */
static int temp_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    return n;
}

static int mode_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

static cnn_status write_one(const char *path, const cnn_tensor *t)
{
    cnn_named_tensor item = {"w", t};
    return cnn_safetensors_write(path, &item, 1, NULL, NULL, 0);
}

static void test_same_bytes_whatever_the_order(void)
{
    int64_t size[2] = {3, 2};
    cnn_tensor a = make_tensor(CNN_FLOAT32, 2, size), b = make_tensor(CNN_INT32, 1, size);
    iota(&a, 1);
    cnn_named_tensor ab[2] = {{"a", &a}, {"b", &b}}, ba[2] = {{"b", &b}, {"a", &a}};
    const char *k1[2] = {"z", "m"}, *v1[2] = {"last", "model"};
    const char *k2[2] = {"m", "z"}, *v2[2] = {"model", "last"};
    EXPECT_OK(cnn_safetensors_write(in_dir("one"), ab, 2, k1, v1, 2));
    EXPECT_OK(cnn_safetensors_write(in_dir("two"), ba, 2, k2, v2, 2));
    EXPECT(same_contents(in_dir("one"), in_dir("two")));
    size_t len;
    char *text = slurp(in_dir("one"), &len);
    const char *start = "{\"__metadata__\":{\"m\":\"model\",\"z\":\"last\"},\"a\":";
    EXPECT(text && len > 8 + strlen(start) &&
           memcmp(text + 8, start, strlen(start)) == 0);
    free(text);
    cnn_safetensors st;
    EXPECT_OK(cnn_safetensors_read(in_dir("one"), &st));
    EXPECT(st.count == 2 && strcmp(st.entries[1].name, "b") == 0);
    cnn_safetensors_free(&st);
    drop_tensor(&a);
    drop_tensor(&b);
}

static void test_refused_names_write_nothing(void)
{
    int64_t size = 1;
    cnn_tensor t = make_tensor(CNN_FLOAT32, 1, &size);
    cnn_named_tensor twice[2] = {{"w", &t}, {"w", &t}}, reserved = {"__metadata__", &t},
                     bad = {"w\xff", &t};
    const char *keys[2] = {"k", "k"}, *values[2] = {"1", "2"};
    EXPECT(cnn_safetensors_write(in_dir("x"), twice, 2, NULL, NULL, 0) == CNN_ERR_ARG);
    EXPECT_MESSAGE_HAS("tensor name 'w' appears twice");
    EXPECT(cnn_safetensors_write(in_dir("x"), &reserved, 1, NULL, NULL, 0) ==
           CNN_ERR_ARG);
    EXPECT_MESSAGE_HAS("the name __metadata__ is reserved");
    EXPECT(cnn_safetensors_write(in_dir("x"), &bad, 1, NULL, NULL, 0) == CNN_ERR_ARG);
    EXPECT_MESSAGE_HAS("is not valid UTF-8");
    EXPECT(cnn_safetensors_write(in_dir("x"), twice, 1, keys, values, 2) == CNN_ERR_ARG);
    EXPECT_MESSAGE_HAS("metadata key 'k' appears twice");
    EXPECT(mode_of(in_dir("x")) == -1 && temp_files() == 0);
    drop_tensor(&t);
}

static void test_permissions(void)
{
    int64_t size = 2;
    cnn_tensor t = make_tensor(CNN_FLOAT32, 1, &size);
    mode_t old = umask(022);
    EXPECT_OK(write_one(in_dir("new644"), &t));
    EXPECT(mode_of(in_dir("new644")) == 0644);
    umask(077);
    EXPECT_OK(write_one(in_dir("new600"), &t));
    EXPECT(mode_of(in_dir("new600")) == 0600);
    EXPECT(chmod(in_dir("new644"), 0640) == 0);
    EXPECT_OK(write_one(in_dir("new644"), &t)); /* replaced, under umask 077 */
    EXPECT(mode_of(in_dir("new644")) == 0640);
    umask(old);
    drop_tensor(&t);
}

static void test_symbolic_link_is_followed(void)
{
    int64_t size = 2;
    cnn_tensor t = make_tensor(CNN_FLOAT32, 1, &size);
    touch(in_dir("real"));
    EXPECT(symlink("real", in_dir("link")) == 0);
    EXPECT_OK(write_one(in_dir("link"), &t));
    struct stat sb;
    EXPECT(lstat(in_dir("link"), &sb) == 0 && S_ISLNK(sb.st_mode));
    cnn_safetensors st;
    EXPECT_OK(cnn_safetensors_read(in_dir("real"), &st));
    EXPECT(st.count == 1);
    cnn_safetensors_free(&st);
    drop_tensor(&t);
}

/* Temporary files of the same target that nobody locks were left by a
 * killed writer and go; a locked one belongs to a live writer and stays,
 * as do names of other targets and names that only look similar. */
static void test_abandoned_temporary_files_are_removed(void)
{
    int64_t size = 2;
    cnn_tensor t = make_tensor(CNN_FLOAT32, 1, &size);
    touch(in_dir("m.st.tmp.AbC123"));
    touch(in_dir("m.st.tmp.zzzzzz"));
    touch(in_dir("m.st.tmp.live00"));
    touch(in_dir("m.st.tmp.short"));
    touch(in_dir("other.st.tmp.AbC123"));
    int live = open(in_dir("m.st.tmp.live00"), O_RDONLY);
    EXPECT(live >= 0 && flock(live, LOCK_EX) == 0);
    EXPECT_OK(write_one(in_dir("m.st"), &t));
    EXPECT(mode_of(in_dir("m.st.tmp.AbC123")) == -1);
    EXPECT(mode_of(in_dir("m.st.tmp.zzzzzz")) == -1);
    EXPECT(mode_of(in_dir("m.st.tmp.live00")) != -1);
    EXPECT(mode_of(in_dir("m.st.tmp.short")) != -1);
    EXPECT(mode_of(in_dir("other.st.tmp.AbC123")) != -1);
    close(live);
    unlink(in_dir("m.st.tmp.live00"));
    unlink(in_dir("m.st.tmp.short"));
    unlink(in_dir("other.st.tmp.AbC123"));
    EXPECT(temp_files() == 0);
    drop_tensor(&t);
}

/* A write that fails after part of the data: the file size limit stops it
 * (EFBIG, with SIGXFSZ ignored), the old file stays, no temporary file. */
static void test_failure_midway_leaves_old_file(void)
{
    int64_t small = 4, big = 64 * 1024;
    cnn_tensor a = make_tensor(CNN_FLOAT32, 1, &small),
               b = make_tensor(CNN_FLOAT32, 1, &big);
    EXPECT_OK(write_one(in_dir("keep"), &a));
    size_t before_len;
    char *before = slurp(in_dir("keep"), &before_len);
    struct rlimit saved, limited;
    getrlimit(RLIMIT_FSIZE, &saved);
    limited = saved;
    limited.rlim_cur = 16 * 1024;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    EXPECT(setrlimit(RLIMIT_FSIZE, &limited) == 0);
    EXPECT(write_one(in_dir("keep"), &b) == CNN_ERR_IO);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old_handler);
    EXPECT_MESSAGE_HAS("keep: write error: File too large");
    size_t after_len;
    char *after = slurp(in_dir("keep"), &after_len);
    EXPECT(before && after && before_len == after_len &&
           memcmp(before, after, after_len) == 0);
    EXPECT(temp_files() == 0);
    free(before);
    free(after);
    drop_tensor(&a);
    drop_tensor(&b);
}

static void test_bad_targets(void)
{
    int64_t size = 1;
    cnn_tensor t = make_tensor(CNN_FLOAT32, 1, &size);
    EXPECT(write_one(dir, &t) == CNN_ERR_ARG);
    EXPECT_MESSAGE_HAS(" is a directory");
    EXPECT(write_one("", &t) == CNN_ERR_ARG);
    EXPECT_MESSAGE_HAS("the path is empty");
    EXPECT(write_one(in_dir("sub/"), &t) == CNN_ERR_ARG);
    EXPECT_MESSAGE_HAS("names a directory (it ends with '/')");
    EXPECT(write_one("/dev/null", &t) == CNN_ERR_ARG);
    EXPECT_MESSAGE_HAS("/dev/null exists and is not a regular file");
    EXPECT(write_one(in_dir("missing/m.st"), &t) == CNN_ERR_IO);
    EXPECT_MESSAGE_HAS("missing/m.st: cannot create a file in ");
    EXPECT_MESSAGE_HAS("/missing: No such file or directory");
    EXPECT(temp_files() == 0);
    drop_tensor(&t);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_same_bytes_whatever_the_order();
    test_refused_names_write_nothing();
    test_permissions();
    test_symbolic_link_is_followed();
    test_abandoned_temporary_files_are_removed();
    test_failure_midway_leaves_old_file();
    test_bad_targets();
    char command[64];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_report();
}
