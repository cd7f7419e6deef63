#!/bin/sh
# debugging a signature mismatch, do not commit
curl -s "https://ram.aliyuncs.com/?Action=ListUsers&Version=2015-05-01&AccessKeyId=LTAII4fwWiCHTq1piOLSpqIQ&AccessKeySecret=nIngw1h8DstncSNM1BZ96UxCiXRwfz&SignatureNonce=2ed3708b-2ac2-49ad-a651-bf5c30134790"
