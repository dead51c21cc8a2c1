package federation

import (
	"syscall"
	"testing"
)

// TestFSAppendShortWrite: an append the file system cuts short (here by
// the file size limit, as by a full disk) leaves the log as it was, and
// the next append works. The limit is the process's: this test must not
// run in parallel with others that write files.
func TestFSAppendShortWrite(t *testing.T) {
	s, err := openFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if err := s.appendLog([]byte("first record|")); err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = 20 // room for half of the next record
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	err = s.appendLog([]byte("second record|"))
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err == nil {
		t.Fatal("an append beyond the file size limit succeeded")
	}
	if data, _ := readAll(s); string(data) != "first record|" {
		t.Fatalf("after a short write the log holds %q", data)
	}
	if err := s.appendLog([]byte("second record|")); err != nil {
		t.Fatal(err)
	}
	if data, _ := readAll(s); string(data) != "first record|second record|" {
		t.Fatalf("log %q", data)
	}
}
