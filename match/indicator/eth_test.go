package indicator

import (
	"testing"
)

func TestKindETH(t *testing.T) {
	testKind(t, ETH, []canonCase{
		// EIP-55's own examples.
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", ""},
		{"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb", ""},
		{"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb", ""},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{"0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{" 0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae ", "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae", ""},
		{"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "", "EIP-55"},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "", "EIP-55"},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", "", "40 hex"},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "", "hexadecimal"},
	})
}
