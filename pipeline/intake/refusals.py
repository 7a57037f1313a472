"""The sentences that refuse a whole file: what it is, and what the township (and the bureau,
when it received the file) should do. Read by a clerk checking their own file and by the
operator on Monday, so every remedy names both."""

ACCEPTED = "请把明细表以 .xlsx、.xls 或 .csv 格式发送。"
RESAVE = "请用 Excel 或 WPS 打开后“另存为” .xlsx 文件再发送。"
UNZIP = "请解压后把其中的明细表（.xlsx、.xls 或 .csv）直接作为附件发送。"
# Read by a township checking its own file and by the bureau receiving it: the remedy names both.
AGAIN = "报送单位请用 Excel 或 WPS 打开原文件，确认内容完整后重新保存再发送；区民政局收到的，请重新从邮件中保存，或请报送单位重新发送。"
CORRUPT = f"文件已损坏或不完整（可能是保存时出错，或邮件附件没有下载完整）。{AGAIN}"
TAMPERED = ("文件内部含有 Excel 从不写入的内容，可能是被篡改或恶意构造的文件，已拒绝读取。"
            "请用 Excel 重新制作并保存后再发送。")
LINK = ("这是一个快捷方式（链接），不是明细表文件本身，没有读取。报送单位请发送文件本身；区民政局收到的，"
        "请把它指向的文件本身放进收件箱。")
UNOPENABLE = "文件无法打开，请确认文件名和位置正确、文件没有被其他程序占用，然后再试一次。"
ENCRYPTED = ("文件设置了打开密码，请取消密码后重新保存再发送"
             "（文件→信息→保护工作簿→用密码进行加密，清空密码）。")
BOMB = ("文件解压后的数据量异常（{detail}），可能已损坏或是恶意构造的“压缩炸弹”，已拒绝读取。"
        "请用 Excel 打开后只保留明细表，另存为新文件再发送。")

# Leading bytes of formats people attach by mistake: (magic, what it is, what to do).
FOREIGN_MAGIC = (
    (b"%PDF", "一个 PDF 文件", ACCEPTED),
    (b"\x89PNG", "一张 PNG 图片", ACCEPTED),
    (b"\xff\xd8\xff", "一张 JPEG 图片", ACCEPTED),
    (b"GIF8", "一张 GIF 图片", ACCEPTED),
    (b"II*\x00", "一张 TIFF 图片", ACCEPTED),
    (b"MM\x00*", "一张 TIFF 图片", ACCEPTED),
    (b"Rar!", "一个 RAR 压缩包（本系统只能解开 .zip 压缩包）", UNZIP),
    (b"7z\xbc\xaf\x27\x1c", "一个 7z 压缩包（本系统只能解开 .zip 压缩包）", UNZIP),
    (b"\x1f\x8b", "一个 gzip 压缩包", UNZIP),
)
SUFFIX_MESSAGES = {
    ".et": f"这是 WPS 表格专用格式（.et），不是 Excel 格式。{RESAVE}",
    ".ett": f"这是 WPS 表格模板（.ett），不是 Excel 格式。{RESAVE}",
    ".ods": f"这是 OpenDocument 表格（.ods），不是 Excel 格式。{RESAVE}",
    ".xlsb": f"这是 Excel 二进制工作簿（.xlsb），本系统不读取这种格式。{RESAVE}",
}


# Word, web pages and WPS files are read, but Excel is what the bureau asks for.
AS_EXCEL = "以后也可以直接用 Excel 填写区民政局下发的模板（.xlsx），检查和汇总更快、更不容易出错。"
NO_OFFICE = ("本机没有安装 LibreOffice，无法转换这种格式。区民政局请安装 LibreOffice（Windows 从 LibreOffice 官方网站"
             "下载安装；Debian、Ubuntu 运行 apt-get install libreoffice-writer-nogui libreoffice-calc-nogui）后重新运行；"
             "报送单位也可以用 Word、WPS 或 Excel 打开后另存为 {target} 再发送。")
NESTED = ("压缩包「{archive}」中还有压缩包「{member}」，本系统不解开压缩包里的压缩包。请把明细表解压出来，"
          "直接作为附件发送（或只把明细表压缩成一个 .zip）。")


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"
