package federation

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// State files share one container, so that a file from another program,
// another kind of state file, a truncated or a corrupted one is a clear
// error at load, never a silent reset:
//
//	magic "FDMS" version:u8 type:u8 length:u64 payload SHA-256(all before)
const (
	stateMagic   = "FDMS"
	stateVersion = 1
	stateHeader  = len(stateMagic) + 2 + 8
	stateTrailer = sha256.Size
	// maxStateFile bounds a state file read at load: a publisher of the
	// largest watchlist (2^32 entries at 20 bytes, plus labels) fits.
	maxStateFile = 1 << 38
)

// stateType identifies a state file. The values are on disk; do not
// reorder.
type stateType uint8

const (
	stateNode      stateType = 1 // node.state: epochs
	stateKey       stateType = 2 // epoch-N.key: an OPRF private key
	statePublisher stateType = 3 // epoch-N.pub: a publisher's state
	stateBudgets   stateType = 4 // budgets
	stateAuditHead stateType = 5 // audit.head: the signed head of the audit log
)

func (t stateType) String() string {
	switch t {
	case stateNode:
		return "node state"
	case stateKey:
		return "key"
	case statePublisher:
		return "publisher state"
	case stateBudgets:
		return "budgets"
	case stateAuditHead:
		return "audit head"
	}
	return fmt.Sprintf("state type %d", uint8(t))
}

// ErrCorruptState reports a state file that is foreign, truncated,
// corrupted or of another version; the node refuses to start on it.
var ErrCorruptState = errors.New("federation: corrupt state file")

// ErrStateInUse reports a state directory another node holds.
var ErrStateInUse = errors.New("federation: state directory in use by another node")

func encodeState(t stateType, payload []byte) []byte {
	b := make([]byte, 0, stateHeader+len(payload)+stateTrailer)
	b = append(b, stateMagic...)
	b = append(b, stateVersion, byte(t))
	b = binary.BigEndian.AppendUint64(b, uint64(len(payload)))
	b = append(b, payload...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

func decodeState(data []byte, want stateType) ([]byte, error) {
	switch {
	case len(data) < stateHeader+stateTrailer:
		return nil, fmt.Errorf("%w: %d bytes, truncated", ErrCorruptState, len(data))
	case string(data[:4]) != stateMagic:
		return nil, fmt.Errorf("%w: not a fedmatch state file", ErrCorruptState)
	case data[4] != stateVersion:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCorruptState, data[4], stateVersion)
	case stateType(data[5]) != want:
		return nil, fmt.Errorf("%w: a %v file where a %v file belongs", ErrCorruptState, stateType(data[5]), want)
	}
	n := binary.BigEndian.Uint64(data[6:])
	if n != uint64(len(data)-stateHeader-stateTrailer) {
		return nil, fmt.Errorf("%w: declares %d payload bytes, holds %d", ErrCorruptState, n, len(data)-stateHeader-stateTrailer)
	}
	body := data[:len(data)-stateTrailer]
	sum := sha256.Sum256(body)
	if string(sum[:]) != string(data[len(body):]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorruptState)
	}
	return data[stateHeader:len(body)], nil
}

// readState reads and checks a state file. A missing file is
// os.ErrNotExist (wrapped).
func readState(dir, name string, want stateType) ([]byte, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxStateFile {
		return nil, fmt.Errorf("%w: %s: %d bytes", ErrCorruptState, name, st.Size())
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	payload, err := decodeState(data, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return payload, nil
}

// writeState replaces a state file atomically: write a temporary file in
// the same directory, fsync it, rename it over the old one, fsync the
// directory. After a crash the file is either the old or the new one.
func writeState(dir, name string, t stateType, payload []byte) error {
	return writeAtomic(dir, name, encodeState(t, payload))
}

func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// destroyFile overwrites a file with zeros, syncs it and removes it. On
// journaling and copy-on-write file systems the old blocks may survive;
// the overwrite is a best effort, the removal is what the node relies on.
func destroyFile(dir, name string) error {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err == nil {
		f.Write(make([]byte, st.Size()))
		f.Sync()
	}
	f.Close()
	if err := os.Remove(path); err != nil {
		return err
	}
	return syncDir(dir)
}
